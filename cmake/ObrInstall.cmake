# Install rules and the exported obr:: CMake package (find_package(obr)).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Headers: <prefix>/include/obr/<folder>/..., and the installed targets' include directory
# is <prefix>/include/obr (OBR_INSTALL_INCLUDEDIR, cmake/ObrHelpers.cmake). Consumers keep
# writing #include "engine/engine.h", "book/order_book.h" exactly as inside this repo.
#
# Why not #include "obr/engine/engine.h" with <prefix>/include on the path: obr's own
# headers include each other by repo path ("book/order_book.h" from engine/engine.h), so
# an installed engine/engine.h only compiles when <prefix>/include/obr is on the include
# path anyway. Requiring the obr/ prefix in consumers would therefore need both
# directories on the path (two spellings for every header, both working) or a rewrite of
# every include in obr's headers; one directory and one spelling, the same in the repo,
# in add_subdirectory(obr) and in an installed package, is simpler. The obr/ directory
# still keeps the installed files apart from other libraries' book/ or engine/ folders.
#
# Installed: exactly the public API, listed by hand (no globbing, so a new header is
# internal until someone decides otherwise). It is the headers a user of obr::book,
# obr::connectors and obr::engine includes plus every project header they include,
# transitively; regenerate the closure with the compiler when a public header's includes
# change:
#   printf '#include "%s"\n' <public headers> > /tmp/p.cpp
#   g++ -std=c++20 -I. -M /tmp/p.cpp | tr ' \\' '\n\n' | grep "^$PWD/" | sort -u
# The `packaging` test (tests/packaging/run_packaging_test.cmake) fails when an installed
# header includes one that is not installed, when a header is installed that its entry
# points do not reach, or when an internal header is installed.
#
# Internal, never installed: *_impl.h (a source file's private internals: engine_impl.h,
# venues_impl.h, venue_replay_impl.h, kucoin/spot_session_impl.h), anything under a
# detail/ folder (connectors/net/detail/tls_context.h). Also not
# installed, being no user's entry point and included by none: connectors/net's
# transports (event_loop.h, http_client.h, http_server.h, websocket_client.h, url.h; the
# engine owns its connections), the parsing helpers of the venue sessions
# (connectors/protocol/frame_buffer.h, json_text.h, json_validator.h, which needs
# simdjson's headers, a private dependency; book_registry.h, rest_book.h and
# snapshot_bridge.h, the sessions' shared internals), and Kraken's session internals
# (connectors/kraken/book_set.h, v2_book_frame.h).
set(OBR_PUBLIC_HEADERS
  # obr::book: all of it is API.
  book/book_side.h
  book/book_state.h
  book/crc32.h
  book/decimal.h
  book/digit_text.h
  book/kraken_checksum.h
  book/okx_checksum.h
  book/level.h
  book/order_book.h
  book/sequence_tracker.h
  # obr::connectors: the sans-I/O session contract and the venue sessions.
  connectors/protocol/breaker.h
  connectors/protocol/session.h
  connectors/protocol/venue.h
  connectors/binance/depth_session.h
  connectors/binance/venue.h
  connectors/bybit/orderbook_session.h
  connectors/bybit/venue.h
  connectors/kraken/common.h
  connectors/kraken/v1_session.h
  connectors/kraken/v2_session.h
  connectors/kraken/venue.h
  connectors/kucoin/signing.h
  connectors/kucoin/spot_session.h
  connectors/kucoin/venue.h
  connectors/okx/books_session.h
  connectors/okx/venue.h
  connectors/net/backoff.h            # included by engine/engine.h
  connectors/net/tls.h                # included by engine/engine.h
  # obr::engine: the live engine, its configuration, recording and replay.
  engine/capture_reader.h
  engine/config_file.h
  engine/consolidated.h
  engine/engine.h
  engine/latency_histogram.h
  engine/observability.h              # /health and /metrics bodies from Engine::stats()
  engine/recorder.h
  engine/replayer.h
  engine/top_of_book.h)

foreach(header IN LISTS OBR_PUBLIC_HEADERS)
  if(header MATCHES "_impl\\.h$|(^|/)detail/")
    message(FATAL_ERROR "ObrInstall: ${header} is internal and must not be installed")
  endif()
  get_filename_component(subdir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header} DESTINATION ${OBR_INSTALL_INCLUDEDIR}/${subdir})
endforeach()

get_property(obr_libs GLOBAL PROPERTY OBR_LIBRARIES)
# The targets carry their include directory themselves (INSTALL_INTERFACE in obr_library):
# no INCLUDES DESTINATION here, which would add <prefix>/include as well.
install(TARGETS ${obr_libs} EXPORT obrTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The command-line tool, when configured (OBR_BUILD_TOOLS). Not exported: it is a program,
# not something to link. OPTIONAL: installing after building only the libraries
# (examples/README.md) still works; the `packaging` test checks that a full build installs it.
if(TARGET obr)
  install(TARGETS obr RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} OPTIONAL)
endif()
install(EXPORT obrTargets NAMESPACE obr:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/obrConfig.cmake.in
  ${PROJECT_BINARY_DIR}/obrConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/obrConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/obrConfig.cmake ${PROJECT_BINARY_DIR}/obrConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)

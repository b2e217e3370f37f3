# Install rules and the exported obr:: CMake package (find_package(obr)).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(obr_libs GLOBAL PROPERTY OBR_LIBRARIES)
install(TARGETS ${obr_libs} EXPORT obrTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir IN ITEMS book connectors engine)
  # *_impl.h: a source file's private internals (engine_impl.h, spot_session_impl.h).
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "*_impl.h" EXCLUDE)
endforeach()
install(EXPORT obrTargets NAMESPACE obr:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/obrConfig.cmake.in
  ${PROJECT_BINARY_DIR}/obrConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/obrConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/obrConfig.cmake ${PROJECT_BINARY_DIR}/obrConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/obr)

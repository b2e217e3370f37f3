# check_venue_names.cmake — fails when code outside the places that may know a venue
# branches on a venue's name (docs/architecture.md "Adding a venue": a venue is its
# folder, its simulator piece and one line in each list).
#   cmake -DROOT=<tree> -P check_venue_names.cmake
#
# The venue names are read from the descriptors (`.name = "..."` in
# connectors/*/venue.h). A string literal that is exactly one of them, outside a comment,
# is allowed only in: connectors/<venue>/ (the venue's own folder), engine/venues.cpp
# (the engine's list), the simulator's venue pieces and their list (tools/sim/*_piece.*,
# tools/sim/venue_pieces.*). Tests, examples, benchmarks and docs are users and may name
# venues; they are not scanned.
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_venue_names.cmake")
endif()

file(GLOB descriptors "${ROOT}/connectors/*/venue.h")
set(names "")
foreach(d IN LISTS descriptors)
  file(STRINGS "${d}" lines REGEX "\\.name = \"[^\"]+\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE ".*\\.name = \"([^\"]+)\".*" "\\1" name "${line}")
    list(APPEND names "${name}")
  endforeach()
endforeach()
if(NOT names)
  message(FATAL_ERROR "venue names: no descriptor found under ${ROOT}/connectors/*/venue.h")
endif()
string(REPLACE ";" "|" alternatives "${names}")
set(literal "\"(${alternatives})\"")

include(${CMAKE_CURRENT_LIST_DIR}/read_lines.cmake)

set(violations 0)
foreach(folder book connectors engine tools)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  foreach(f IN LISTS files)
    file(RELATIVE_PATH rel "${ROOT}" "${f}")
    if(rel MATCHES "^connectors/" AND NOT rel MATCHES "^connectors/(protocol|net)/")
      continue()  # a venue's own folder
    endif()
    if(rel STREQUAL "engine/venues.cpp" OR rel MATCHES "^tools/sim/([a-z0-9]+_piece|venue_pieces)[^/]*$")
      continue()
    endif()
    obr_read_lines("${f}" lines)  # read_lines.cmake: why not file(STRINGS)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      # Drop a trailing comment: `//` at the start or after a blank (a URL's "://" stays).
      string(REGEX REPLACE "(^|[ \t])//.*$" "" code "${line}")
      if(code MATCHES "${literal}")
        obr_shown_line("${line}" shown)
        message(SEND_ERROR "venue names: ${rel}:${n}: '${shown}' names a venue outside its folder and the lists")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations GREATER 0)
  message(FATAL_ERROR "venue names: ${violations} line(s) name a venue (venues: ${names})")
endif()
message(STATUS "venue names: ok (${names})")

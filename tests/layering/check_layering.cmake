# check_layering.cmake — fails when a folder includes what docs/architecture.md "Layers" forbids.
#   cmake -DROOT=<tree> -P check_layering.cmake
# Dependency direction: book <- connectors <- engine <- tools.
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layering.cmake")
endif()

# folder;forbidden include regex
set(rules
  "book|^[ \t]*#[ \t]*include[ \t]*[<\"](boost/|simdjson|connectors/|engine/|tools/)"
  "connectors|^[ \t]*#[ \t]*include[ \t]*[<\"](engine/|tools/)"
  "engine|^[ \t]*#[ \t]*include[ \t]*[<\"](tools/)")

include(${CMAKE_CURRENT_LIST_DIR}/read_lines.cmake)

set(violations 0)
foreach(rule IN LISTS rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 folder)
  string(FIND "${rule}" "|" bar)
  math(EXPR bar "${bar} + 1")
  string(SUBSTRING "${rule}" ${bar} -1 pattern)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  foreach(f IN LISTS files)
    obr_read_lines("${f}" lines)  # read_lines.cmake: why not file(STRINGS)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      if(line MATCHES "${pattern}")
        file(RELATIVE_PATH rel "${ROOT}" "${f}")
        obr_shown_line("${line}" line)
        message(SEND_ERROR "layering: ${rel}:${n}: '${line}' is not allowed in ${folder}/ (docs/architecture.md \"Layers\")")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
# Inside engine/, only the list of venues (engine/venues.cpp) includes a venue's headers
# (connectors/<venue>/...; connectors/protocol and connectors/net are every venue's).
file(GLOB_RECURSE engine_files "${ROOT}/engine/*.h" "${ROOT}/engine/*.cpp")
foreach(f IN LISTS engine_files)
  file(RELATIVE_PATH rel "${ROOT}" "${f}")
  if(rel STREQUAL "engine/venues.cpp")
    continue()
  endif()
  obr_read_lines("${f}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]connectors/[a-z0-9_]+/" AND
       NOT line MATCHES "connectors/(protocol|net)/")
      obr_shown_line("${line}" line)
      message(SEND_ERROR "layering: ${rel}:${n}: '${line}': in engine/ only venues.cpp includes a venue's headers")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "layering: ${violations} forbidden include(s)")
endif()
message(STATUS "layering: ok")

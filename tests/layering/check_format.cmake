# check_format.cmake — fails when a C++ source of the project is not as clang-format
# (.clang-format at the root) writes it, naming each file that differs.
#   cmake -DROOT=<tree> -DCLANG_FORMAT=<clang-format> -P check_format.cmake
#
# The files: *.h and *.cpp under the project's code folders (book, connectors, engine,
# tools, bench, tests, examples) and docs/. The planted trees the layering tests use are
# code too and are checked like the rest, except the format check's own (format_bad_tree/,
# wrong on purpose; it is checked as its own ROOT). The style file is the one at ROOT (or above it:
# clang-format looks upward from each file), so a planted tree carries its own.
if(NOT ROOT OR NOT CLANG_FORMAT)
  message(FATAL_ERROR "usage: cmake -DROOT=<tree> -DCLANG_FORMAT=<clang-format> -P check_format.cmake")
endif()
if(NOT EXISTS "${CLANG_FORMAT}")
  message(FATAL_ERROR "format: clang-format not found (${CLANG_FORMAT}); scripts/setup.sh installs it")
endif()

set(globs "")
foreach(dir book connectors engine tools bench tests examples docs)
  list(APPEND globs "${ROOT}/${dir}/*.h" "${ROOT}/${dir}/*.cpp")
endforeach()
file(GLOB_RECURSE files LIST_DIRECTORIES false ${globs})
list(FILTER files EXCLUDE REGEX "/build/")
string(LENGTH "${ROOT}/" root_length)
set(kept "")
foreach(f IN LISTS files)
  string(SUBSTRING "${f}" ${root_length} -1 rel)
  if(NOT rel MATCHES "(^|/)format_bad_tree/")
    list(APPEND kept "${f}")
  endif()
endforeach()
set(files "${kept}")
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "format: no C++ file found under ${ROOT}")
endif()

set(bad 0)
foreach(f IN LISTS files)
  execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror "${f}"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(RELATIVE_PATH rel "${ROOT}" "${f}")
    string(REGEX MATCH ":[0-9]+:[0-9]+: " at "${err}")
    string(REGEX REPLACE ":([0-9]+):.*" "\\1" line "${at}")
    message("format: ${rel} differs from clang-format's output (first at line ${line})")
    math(EXPR bad "${bad} + 1")
  endif()
endforeach()
list(LENGTH files n)
if(bad GREATER 0)
  message(FATAL_ERROR "format: ${bad} of ${n} files differ; run: clang-format -i on them (clang-format 14, .clang-format)")
endif()
message("format: ${n} files as clang-format writes them")

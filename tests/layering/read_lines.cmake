# read_lines.cmake — a source file's lines as a CMake list, for the checks in this folder.
#
#   include(${CMAKE_CURRENT_LIST_DIR}/read_lines.cmake)
#   obr_read_lines("${f}" lines)            # one element per line, numbered from 1
#   foreach(line IN LISTS lines) ... obr_shown_line("${line}" shown) ... endforeach()
#
# Made by hand because file(STRINGS) and a CMake list both mangle C++: a list splits at
# every `;` (so lines fall apart and the line numbers drift), joins `\;`, and keeps
# everything from an unbalanced `[` to the next `]` as one element (a usage text's
# "(0, 1e6]" once fused the rest of its file into one element, hiding what came after).
# Those characters become stand-ins that are not C++; obr_shown_line turns them back for
# messages. A pattern matched against the lines sees the stand-ins.
function(obr_read_lines file out)
  file(READ "${file}" text)
  string(REPLACE "\\" "<backslash>" text "${text}")
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "[" "<lbracket>" text "${text}")
  string(REPLACE "]" "<rbracket>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(obr_shown_line line out)
  string(REPLACE "<rbracket>" "]" shown "${line}")
  string(REPLACE "<lbracket>" "[" shown "${shown}")
  string(REPLACE "<semicolon>" ";" shown "${shown}")
  string(REPLACE "<backslash>" "\\" shown "${shown}")
  set(${out} "${shown}" PARENT_SCOPE)
endfunction()

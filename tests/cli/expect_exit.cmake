# Runs CMD with ARGS and fails unless it exits with EXPECT (and, when MATCH is given, its
# stdout matches that regular expression).
execute_process(COMMAND ${CMD} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT)
  message(FATAL_ERROR "expected exit ${EXPECT}, got ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED MATCH AND NOT out MATCHES "${MATCH}")
  message(FATAL_ERROR "exit ${rc} as expected, but stdout does not match '${MATCH}'\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "exit ${rc} as expected; stdout: ${out}stderr: ${err}")

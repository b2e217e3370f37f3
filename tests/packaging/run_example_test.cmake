# Installs the build into a scratch prefix, builds examples/spread_watcher against it, and
# runs it against obr's exchange simulator (`obr serve`, TLS with its generated cert).
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DOBR_BIN=<obr>
#         [-DCXX_FLAGS=...] [-DLINKER_FLAGS=...] [-DBUILD_TYPE=...] -P ...
foreach(v IN ITEMS BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR OBR_BIN)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "example: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "example: '${ARGN}' failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/spread_watcher" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")

# execute_process cannot background a process, so bash does: start `obr serve` on any free
# port, read the port from its start-up line ("kraken v2:    wss://127.0.0.1:PORT/v2": the
# URLs are aligned, so the blanks after the label grow with the longest label), run
# the example against it, stop the server (SIGTERM: it prints its stats and exits), and
# exit with the example's status.
set(wrapper [=[
obr="$1"; example="$2"; work="$3"
"$obr" serve --port 0 --seconds 20 --cert "$work/cert.pem" >"$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|^kraken v2: *wss://127\.0\.0\.1:\([0-9][0-9]*\)/v2$|\1|p' "$work/serve.log")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "obr serve printed no port:"; cat "$work/serve.log"
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  exit 90
fi
"$example" --kraken-url "wss://127.0.0.1:$port/v2" --kucoin-rest "https://127.0.0.1:$port" \
           --ca-file "$work/cert.pem" --seconds 6
rc=$?
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
echo "--- obr serve ---"; cat "$work/serve.log"
exit $rc
]=])
execute_process(COMMAND bash -c "${wrapper}" run_example "${OBR_BIN}" "${WORK_DIR}/build/spread_watcher" "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message(STATUS "example output:\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "example: spread_watcher against obr serve failed (${rc})")
endif()
set(dec "[0-9]+(\\.[0-9]+)?")
if(NOT out MATCHES "quote  BTC-USD bid ${dec} x ${dec} @ (kraken|kucoin)  ask ${dec} x ${dec} @ (kraken|kucoin)  spread -?${dec}  live [12]/2")
  message(FATAL_ERROR "example: no consolidated quote with both sides in the output")
endif()
if(NOT out MATCHES "spread_watcher: [1-9][0-9]* consolidated quotes, [0-9]+ state changes")
  message(FATAL_ERROR "example: no summary line (or zero quotes) in the output")
endif()
message(STATUS "example: ok")

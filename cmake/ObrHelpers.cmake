# ObrHelpers: one function per target kind. Sources are always listed explicitly.
#
#   obr_library(NAME book SOURCES a.cpp ... PUBLIC_DEPS x PRIVATE_DEPS y)
#     -> static library obr_book, alias obr::book, headers included by repo path
#        ("book/order_book.h"): from the source tree when built, from
#        <prefix>/${OBR_INSTALL_INCLUDEDIR} when installed (cmake/ObrInstall.cmake).
#   obr_test(NAME book_decimal SOURCES ... DEPS ... LABELS unit)
#   obr_benchmark(NAME book_bench SOURCES ... DEPS ...)
#   obr_executable(NAME obr SOURCES ... DEPS ...)
include_guard(GLOBAL)
include(GNUInstallDirs)

# Where the installed headers go, and the installed targets' include directory: obr's
# folders (book/, connectors/, engine/) under one obr/ directory, so they cannot collide
# with another library's in a shared prefix. cmake/ObrInstall.cmake says why consumers
# still include "engine/engine.h" rather than "obr/engine/engine.h".
set(OBR_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/obr)

# Warnings for every obr target; third-party headers are included as SYSTEM.
function(obr_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
  if(OBR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(obr_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(target obr_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(obr::${ARG_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME} OUTPUT_NAME obr_${ARG_NAME}
                                             POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${OBR_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  obr_set_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY OBR_LIBRARIES ${target})
endfunction()

function(obr_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  set(target ${ARG_NAME}_test)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  obr_set_warnings(${target})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${target})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}"
                       ENVIRONMENT "OBR_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data")
endfunction()

function(obr_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_compile_definitions(${ARG_NAME} PRIVATE OBR_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
  obr_set_warnings(${ARG_NAME})
endfunction()

function(obr_executable)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  obr_set_warnings(${ARG_NAME})
endfunction()

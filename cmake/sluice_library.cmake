# One folder = one library = one call:
#   sluice_library(NAME segment SRCS a.cc b.cc DEPS sluice::index PRIVATE_DEPS PkgConfig::URING)
# creates target sluice_<NAME> with alias sluice::<NAME>; headers are included as
# "<folder>/<file>.h" from the project root. Warnings are set here, in one place.

function(sluice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
    -Woverloaded-virtual -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    # GCC 12 reports false positives through boost::system::result / std::optional at -O2, and
    # through std::string's inlined memcpy at -O3 (GCC bug 105329). (Clang builds the fuzzers.)
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized -Wno-restrict>)
  if(SLUICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(sluice_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target sluice_${ARG_NAME})
  if(NOT ARG_SRCS)  # a library still being written: header-only until it has sources
    add_library(${target} INTERFACE)
    add_library(sluice::${ARG_NAME} ALIAS ${target})
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${target} STATIC ${ARG_SRCS})
  add_library(sluice::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  sluice_warnings(${target})
endfunction()

function(sluice_executable)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  sluice_warnings(${ARG_NAME})
endfunction()

# One doctest binary per library: sluice_test(NAME segment SRCS ... DEPS ... LABELS unit)
function(sluice_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  set(target ${ARG_NAME}_test)
  if(NOT TARGET sluice_doctest_main)  # doctest's main(), compiled once for every test binary
    add_library(sluice_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/doctest_main.cc)
    target_link_libraries(sluice_doctest_main PUBLIC doctest::doctest)
  endif()
  add_executable(${target} ${ARG_SRCS})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} sluice_doctest_main)
  sluice_warnings(${target})
  add_test(NAME ${ARG_NAME} COMMAND ${target})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 900)
endfunction()

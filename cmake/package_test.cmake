# cmake -P: the package as an out-of-tree project sees it. Installs BUILD_DIR into a fresh
# prefix under WORK_DIR, configures and builds CONSUMER_DIR against it alone (CMAKE_PREFIX_PATH),
# runs the consumer's test, and removes WORK_DIR whatever happened.
#   -DBUILD_DIR= -DCONSUMER_DIR= -DWORK_DIR= [-DCXX_COMPILER=] [-DCXX_LAUNCHER=] [-DBUILD_TYPE=] [-DSANITIZE=]
foreach(var BUILD_DIR CONSUMER_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "package_test.cmake: -D${var}= is required")
  endif()
endforeach()
set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
# The test must judge the package, not an environment that points elsewhere.
unset(ENV{LASTACK_POLICY_DIR})
unset(ENV{CMAKE_PREFIX_PATH})

set(failure "")
# Runs one step unless an earlier one failed; a failure is remembered with the step's output.
macro(step what)
  if(NOT failure)
    message(STATUS "package test: ${what}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      set(failure "${what} failed (${rc}):\n${out}")
    endif()
  endif()
endmacro()

set(configure_args -S ${CONSUMER_DIR} -B ${consumer_build} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(CXX_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
# A sanitized package's static libraries need the sanitizer runtimes in the consumer too.
if(SANITIZE)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE} -fno-omit-frame-pointer"
       -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE})
endif()

step("install into ${prefix}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
# The installed binary must read the installed policies: one only the prefix holds.
if(NOT failure)
  file(READ ${prefix}/share/lastack/policies/baseline.toml baseline)
  string(REPLACE "name = \"baseline\"" "name = \"installed-only\"" marker "${baseline}")
  file(WRITE ${prefix}/share/lastack/policies/installed-only.toml "${marker}")
endif()
step("the installed lastack reads the installed policies" ${prefix}/bin/lastack explain installed-only)
file(REMOVE ${prefix}/share/lastack/policies/installed-only.toml)
step("configure the consumer" ${CMAKE_COMMAND} ${configure_args})
if(NOT failure)
  # find_package must have found this prefix's package, not one installed elsewhere.
  file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^lastack_DIR:")
  if(NOT found_dir MATCHES "=${prefix}/")
    set(failure "find_package(lastack) did not use ${prefix}: ${found_dir}")
  endif()
endif()
step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} -j2)
if(NOT failure)
  # Its policies must be the installed ones, not the source tree's.
  file(READ ${consumer_build}/compile_commands.json commands)
  string(FIND "${commands}" "${prefix}/share/lastack/policies" at)
  if(at EQUAL -1)
    set(failure "the consumer was not compiled with LASTACK_POLICY_DIR=${prefix}/share/lastack/policies")
  endif()
endif()
step("run the consumer's test" ${consumer_build}/my_app_tests)
if(NOT failure)
  message(STATUS "package test: ${out}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
if(failure)
  message(FATAL_ERROR "package test: ${failure}")
endif()

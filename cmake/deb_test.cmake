# cmake -P: the Debian packages as apt would get them. Runs `cpack -G DEB` on BUILD_DIR (lastack
# built) into a fresh WORK_DIR, reads the packages back with dpkg-deb (contents, control fields),
# unpacks lastack's and runs what it holds: the program finds the policies installed beside it,
# the man page has every subcommand, the completion completes. Installs nothing on this machine;
# removes WORK_DIR whatever happened.
#   -DBUILD_DIR= -DWORK_DIR= -DVERSION= -DPOLICY_DIR=(the source tree's, to count them)
cmake_minimum_required(VERSION 3.22)
foreach(var BUILD_DIR WORK_DIR VERSION POLICY_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "deb_test.cmake: -D${var}= is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
unset(ENV{LASTACK_POLICY_DIR})  # the unpacked program must find its own policies
set(root ${WORK_DIR}/root)
set(failure "")

# Runs one step unless an earlier one failed; its output is left in `out`, a failure remembered.
# Functions, not macros: a macro would expand the ${...} of the completion's shell text again,
# and read the backslashes of a man page as escapes.
function(step what)
  if(NOT failure)
    message(STATUS "deb test: ${what}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(out "${out}" PARENT_SCOPE)
    if(NOT rc EQUAL 0)
      set(failure "${what} failed (${rc}):\n${out}${err}" PARENT_SCOPE)
    endif()
  endif()
endfunction()
# Fails unless `text` (what `what` printed) contains `needle`.
function(expect what text needle)
  if(NOT failure)
    string(FIND "${text}" "${needle}" at)
    if(at EQUAL -1)
      set(failure "${what} lacks \"${needle}\":\n${text}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

step("cpack -G DEB" cpack -G DEB -B ${WORK_DIR} --config ${BUILD_DIR}/CPackConfig.cmake)
if(NOT failure)
  file(GLOB debs ${WORK_DIR}/lastack_${VERSION}_*.deb)
  list(LENGTH debs count)
  if(NOT count EQUAL 1)
    set(failure "expected one lastack_${VERSION}_*.deb in ${WORK_DIR}, found: ${debs}")
  else()
    set(deb ${debs})
    string(REPLACE "/lastack_" "/lastack-dev_" dev "${deb}")
  endif()
endif()

step("dpkg-deb -c lastack" dpkg-deb -c ${deb})
foreach(path usr/bin/lastack usr/share/lastack/policies/drop-final-ack.toml usr/share/man/man1/lastack.1.gz
             usr/share/bash-completion/completions/lastack usr/share/doc/lastack/README.md)
  expect("lastack's contents" "${out}" " ./${path}\n")
endforeach()
if(NOT failure)
  # Every shipped policy, not only one.
  file(GLOB shipped ${POLICY_DIR}/*.toml)
  string(REGEX MATCHALL "/usr/share/lastack/policies/[^/\n]+\\.toml" packed "${out}")
  list(LENGTH shipped want)
  list(LENGTH packed got)
  if(NOT got EQUAL want)
    set(failure "the package holds ${got} policies, the source tree ${want}")
  endif()
endif()
step("dpkg-deb -f lastack" dpkg-deb -f ${deb} Package Version Depends)
expect("lastack's control fields" "${out}" "Package: lastack\nVersion: ${VERSION}\n")
foreach(library libnetfilter-queue1 libmnl0 libbpf1 libfmt9 libstdc++6)
  expect("lastack's Depends" "${out}" "${library}")
endforeach()

step("dpkg-deb -c lastack-dev" dpkg-deb -c ${dev})
foreach(path usr/include/lastack/lastack.hpp usr/lib/cmake/lastack/lastackConfig.cmake)
  expect("lastack-dev's contents" "${out}" " ./${path}\n")
endforeach()
step("dpkg-deb -f lastack-dev" dpkg-deb -f ${dev} Depends)
expect("lastack-dev's Depends" "${out}" "lastack (= ${VERSION})")

# What the package holds, unpacked (not installed) and used.
step("dpkg-deb -x lastack" dpkg-deb -x ${deb} ${root})
step("the packaged lastack --version" ${root}/usr/bin/lastack --version)
expect("lastack --version" "${out}" "lastack ${VERSION}\n")
step("the packaged lastack list --names" ${root}/usr/bin/lastack list --names)
expect("lastack list --names (the policies installed beside it)" "${out}" "drop-final-ack\n")
step("the packaged man page" gzip -dc ${root}/usr/share/man/man1/lastack.1.gz)
foreach(text ".TH LASTACK \"1\"" ".SH SUBCOMMANDS" ".SS \"lastack run" ".SS \"lastack exec" "\\-\\-capture")
  expect("lastack.1" "${out}" "${text}")
endforeach()
# One command a line: a ";" would split the script in two on its way through ${ARGN}.
step("the packaged completion"
  ${CMAKE_COMMAND} -E env PATH=${root}/usr/bin:$ENV{PATH} bash -c
  "source ${root}/usr/share/bash-completion/completions/lastack
   complete_line() {
     COMP_WORDS=(\"$@\")
     COMP_CWORD=$(($# - 1))
     _lastack
     echo \"\${COMPREPLY[*]}\"
   }
   complete_line lastack ru
   complete_line lastack run --cap
   complete_line lastack run drop-final-a")
expect("the completion" "${out}" "run\n--capture\ndrop-final-ack")

file(REMOVE_RECURSE ${WORK_DIR})
if(failure)
  message(FATAL_ERROR "deb test: ${failure}")
endif()
message(STATUS "deb test: ${deb} holds the tool")

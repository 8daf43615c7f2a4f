# `cpack -G DEB` in the build directory (after building lastack): two Debian
# packages for /usr, one per install component of cmake/install.cmake (README, "Install as a
# Debian package"):
#   lastack_<version>_<arch>.deb       bin/lastack, share/lastack/policies/, lastack(1), the bash
#                                      completion, share/doc/lastack/
#   lastack-dev_<version>_<arch>.deb   include/lastack/, the static libraries, lib/cmake/lastack/
# The version is project()'s, as --version prints it. The lab-tier CTest "package: the .deb holds
# the tool" builds them into a scratch directory and reads them back (cmake/deb_test.cmake).
set(LASTACK_PACKAGE_MAINTAINER "Seed 069e14d5 maintainers <maintainers@users.noreply.b-seed-069e14d5.example>"
    CACHE STRING "the Maintainer: of the .deb packages")

# cpack packages what is built: without this its "preinstall" step would first build every
# target (the test suites, benchmarks and examples, none of them packaged).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_PACKAGE_NAME lastack)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR lastack)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${LASTACK_PACKAGE_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version_arch.deb, as apt and dpkg name them
# The build is RelWithDebInfo: the debug information would make the program 70 MB.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL tool dev)

# The program. Its Depends: are the libraries it links, as dpkg-shlibdeps reads them from the
# binary (libnetfilter-queue1, libmnl0, libbpf1, libfmt9, libtomlplusplus3, zlib1g, libstdc++6 ...;
# Boost.System is header-only in 1.74). The only programs it starts are /bin/sh (lastack exec's
# commands, the orphan reaper, which also uses find and sleep) and itself (lastack agent), all
# Essential; the queue rules are loaded in-process (harness/sys/net/xtables), not by iptables.
set(CPACK_DEBIAN_TOOL_PACKAGE_NAME lastack)
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOL_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_TOOL_PACKAGE_SUGGESTS "wireshark | tshark")  # to read what --pcap writes
# Each package's description: its synopsis, then the extended text, wrapped as Debian shows it.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")  # else CPack puts the tool's synopsis above both
set(CPACK_COMPONENT_TOOL_DESCRIPTION "${PROJECT_DESCRIPTION}
lastack builds three network namespaces per run (client, wire, server), runs a
real TCP connection through them and drops, delays, holds or duplicates the
segments a policy names (the SYN-ACK, a FIN, the final ACK ...). It watches
both kernels with BPF tracepoints, sock_diag and the namespaces' counters, and
judges what they did against TCP's rules and the policy's expectations: a
ladder diagram, a verdict table and an exit code.

Policies for the handshake, the close, TIME_WAIT, resets and retransmission
timers are shipped; lastack exec runs your own programs under them.")

# The library, for an application's own test suite: find_package(lastack) needs the policies
# (lastack) and what its config finds (cmake/lastackConfig.cmake.in).
set(CPACK_DEBIAN_DEV_PACKAGE_NAME lastack-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "lastack (= ${PROJECT_VERSION}), libboost-system-dev (>= 1.74), libfmt-dev, nlohmann-json3-dev, libtomlplusplus-dev, libnetfilter-queue-dev, libmnl-dev, libbpf-dev, zlib1g-dev, pkg-config")
set(CPACK_COMPONENT_DEV_DESCRIPTION "C++ library of lastack, for an application's own test suite
The headers (<lastack/lastack.hpp>), static libraries and CMake package of
lastack: find_package(lastack) and link lastack::lastack to run policies, or
your own sockets in the lab (lastack::run_policy with lastack::InProcess),
from a Catch2 or any other test suite.")

include(CPack)

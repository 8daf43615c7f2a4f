# `cmake --install build --prefix P` lays lastack out as a package (docs/design.md, "Installed"):
#   P/bin/lastack
#   P/include/lastack/lastack.hpp, P/include/lastack/{harness,agents}/...   every public header
#   P/lib/liblastack_core.a, P/lib/liblastack_lab.a
#   P/lib/cmake/lastack/   lastackConfig.cmake, its version file, the exported targets
#   P/share/lastack/policies/*.toml, P/share/doc/lastack/
# and an out-of-tree project does find_package(lastack) and links lastack::lastack.
# Nothing here hard-codes P: the package is relocatable.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LASTACK_INSTALL_POLICYDIR ${CMAKE_INSTALL_DATADIR}/lastack/policies)
set(LASTACK_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/lastack)

# The installed binary finds the policies from where it runs, wherever the prefix is.
file(RELATIVE_PATH LASTACK_POLICY_DIR_FROM_BIN
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR} ${CMAKE_INSTALL_PREFIX}/${LASTACK_INSTALL_POLICYDIR})
target_compile_definitions(lastack PRIVATE LASTACK_POLICY_DIR_FROM_BIN="${LASTACK_POLICY_DIR_FROM_BIN}")

# lastack::lastack: the whole library. LASTACK_POLICY_DIR names the shipped policies, for
# load_policy(name, lastack::policy_dir(LASTACK_POLICY_DIR)): the source tree's when used from
# this build, the installed ones after find_package.
add_library(lastack_library INTERFACE)
set_target_properties(lastack_library PROPERTIES EXPORT_NAME lastack)
target_link_libraries(lastack_library INTERFACE lastack_lab)
target_compile_definitions(lastack_library INTERFACE
  "$<BUILD_INTERFACE:LASTACK_POLICY_DIR=\"${CMAKE_CURRENT_SOURCE_DIR}/policies\">"
  "$<INSTALL_INTERFACE:LASTACK_POLICY_DIR=\"$<INSTALL_PREFIX>/${LASTACK_INSTALL_POLICYDIR}\">")
add_library(lastack::lastack ALIAS lastack_library)

install(TARGETS lastack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS lastack_core lastack_lab lastack_library EXPORT lastackTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT lastackTargets NAMESPACE lastack:: DESTINATION ${LASTACK_INSTALL_CMAKEDIR})

# Every header, at its source-tree path, so the headers' own "harness/..." includes resolve.
# The BPF program and its generated skeleton are private to lastack_lab's .cpp files.
file(GLOB_RECURSE LASTACK_PUBLIC_HEADERS CONFIGURE_DEPENDS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
  harness/*.hpp agents/*.hpp)
foreach(header IN LISTS LASTACK_PUBLIC_HEADERS)
  get_filename_component(header_dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lastack/${header_dir})
endforeach()
install(FILES include/lastack/lastack.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lastack)

install(DIRECTORY policies/ DESTINATION ${LASTACK_INSTALL_POLICYDIR} FILES_MATCHING PATTERN "*.toml")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

configure_package_config_file(cmake/lastackConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake
  INSTALL_DESTINATION ${LASTACK_INSTALL_CMAKEDIR} PATH_VARS LASTACK_INSTALL_POLICYDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  DESTINATION ${LASTACK_INSTALL_CMAKEDIR})

# `cmake --install build --prefix P` lays lastack out as a package (docs/design.md, "Installed"):
#   P/bin/lastack
#   P/include/lastack/*.hpp   the public headers, and only they (include/lastack/)
#   P/lib/liblastack_<layer>.a   one per layer (cmake/layers.cmake)
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
target_link_libraries(lastack_library INTERFACE lastack_engine)
target_compile_definitions(lastack_library INTERFACE
  "$<BUILD_INTERFACE:LASTACK_POLICY_DIR=\"${CMAKE_CURRENT_SOURCE_DIR}/policies\">"
  "$<INSTALL_INTERFACE:LASTACK_POLICY_DIR=\"$<INSTALL_PREFIX>/${LASTACK_INSTALL_POLICYDIR}\">")
add_library(lastack::lastack ALIAS lastack_library)

install(TARGETS lastack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(LASTACK_LAYER_TARGETS "")
foreach(layer IN LISTS LASTACK_LAYERS)
  if(NOT layer STREQUAL "cli")  # the command line is the program's, not the library's
    list(APPEND LASTACK_LAYER_TARGETS lastack_${layer})
  endif()
endforeach()
install(TARGETS ${LASTACK_LAYER_TARGETS} lastack_core lastack_library EXPORT lastackTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT lastackTargets NAMESPACE lastack:: DESTINATION ${LASTACK_INSTALL_CMAKEDIR})

# The public headers only: everything under harness/ and agents/ is private and free to move.
# The BPF program and its generated skeleton are compiled into liblastack_sys.a.
install(DIRECTORY include/lastack/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lastack FILES_MATCHING PATTERN "*.hpp")

install(DIRECTORY policies/ DESTINATION ${LASTACK_INSTALL_POLICYDIR} FILES_MATCHING PATTERN "*.toml")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

configure_package_config_file(cmake/lastackConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake
  INSTALL_DESTINATION ${LASTACK_INSTALL_CMAKEDIR} PATH_VARS LASTACK_INSTALL_POLICYDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  DESTINATION ${LASTACK_INSTALL_CMAKEDIR})

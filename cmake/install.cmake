# `cmake --install build --prefix P` lays lastack out as a package (docs/design.md, "Installed"):
#   P/bin/lastack
#   P/include/lastack/*.hpp   the public headers, and only they (include/lastack/)
#   P/lib/liblastack_<layer>.a   one per layer (cmake/layers.cmake)
#   P/lib/cmake/lastack/   lastackConfig.cmake, its version file, the exported targets
#   P/share/lastack/policies/*.toml, P/share/lastack/lessons/*.toml, P/share/doc/lastack/
#   P/share/man/man1/lastack.1.gz, P/share/bash-completion/completions/lastack
# and an out-of-tree project does find_package(lastack) and links lastack::lastack.
# Nothing here hard-codes P: the package is relocatable. Two components, the two Debian packages
# of cmake/package.cmake: "tool" (the program, its policies, man page, completion and docs) and
# "dev" (headers, libraries and the find_package config).
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

install(TARGETS lastack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tool)
set(LASTACK_LAYER_TARGETS "")
foreach(layer IN LISTS LASTACK_LAYERS)
  if(NOT layer STREQUAL "cli")  # the command line is the program's, not the library's
    list(APPEND LASTACK_LAYER_TARGETS lastack_${layer})
  endif()
endforeach()
install(TARGETS ${LASTACK_LAYER_TARGETS} lastack_core lastack_library EXPORT lastackTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
# A stripped install (cpack's CPACK_STRIP_FILES, cmake --install --strip) strips the program but
# not static libraries: drop their debug information here, as Debian's -dev packages do.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    file(GLOB archives \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/liblastack_*.a\")
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug \${archives} COMMAND_ERROR_IS_FATAL ANY)
  endif()" COMPONENT dev)
install(EXPORT lastackTargets NAMESPACE lastack:: DESTINATION ${LASTACK_INSTALL_CMAKEDIR} COMPONENT dev)

# The public headers only: everything under harness/ and agents/ is private and free to move.
# The BPF program and its generated skeleton are compiled into liblastack_sys.a.
install(DIRECTORY include/lastack/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lastack COMPONENT dev
  FILES_MATCHING PATTERN "*.hpp")

install(DIRECTORY policies/ DESTINATION ${LASTACK_INSTALL_POLICYDIR} COMPONENT tool FILES_MATCHING PATTERN "*.toml")
# `lastack lesson`'s default lesson, found from the policy directory as ../lessons.
install(DIRECTORY lessons/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lastack/lessons COMPONENT tool FILES_MATCHING PATTERN "*.toml")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT tool)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT tool)

# lastack(1), made from the built binary's own help each time it is linked (packaging/make-man-page
# runs help2man), so the page cannot drift from the options and building lastack is all cpack
# needs; gzipped, as man-db reads it. Changing the page's scripts relinks lastack, to remake it.
find_program(HELP2MAN help2man REQUIRED)
set(LASTACK_MAN_PAGE ${CMAKE_CURRENT_BINARY_DIR}/lastack.1)
add_custom_command(TARGET lastack POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E env HELP2MAN=${HELP2MAN}
          ${CMAKE_CURRENT_SOURCE_DIR}/packaging/make-man-page $<TARGET_FILE:lastack> ${LASTACK_MAN_PAGE}
          "${PROJECT_DESCRIPTION}"
  COMMENT "Generating lastack.1 from lastack --help (help2man)")
set_property(TARGET lastack APPEND PROPERTY LINK_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/packaging/make-man-page ${CMAKE_CURRENT_SOURCE_DIR}/packaging/subcommand-help.awk)
set_property(TARGET lastack APPEND PROPERTY ADDITIONAL_CLEAN_FILES ${LASTACK_MAN_PAGE} ${LASTACK_MAN_PAGE}.gz)
install(FILES ${LASTACK_MAN_PAGE}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tool)
# bash-completion loads a command's completion on first use from here, by the command's name.
install(FILES packaging/lastack.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME lastack COMPONENT tool)

configure_package_config_file(cmake/lastackConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake
  INSTALL_DESTINATION ${LASTACK_INSTALL_CMAKEDIR} PATH_VARS LASTACK_INSTALL_POLICYDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lastackConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/lastackConfigVersion.cmake
  DESTINATION ${LASTACK_INSTALL_CMAKEDIR} COMPONENT dev)

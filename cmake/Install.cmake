# What `cmake --install <build> --prefix P` puts under P: the public headers, the static and shared
# libraries, the gradboard CLI, a CMake package (find_package(gradboard)) and pkg-config files.
# Included after the targets exist. The layout follows GNUInstallDirs.
include(CMakePackageConfigHelpers)

set(GB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradboard)
set(GB_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Headers: only include/gradboard/*.h of each layer (internal/ and the generated protobuf-c
# headers stay private) and the generated version.h.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/summary/include/gradboard
                  ${PROJECT_SOURCE_DIR}/engine/include/gradboard
                  ${PROJECT_BINARY_DIR}/summary/include/gradboard
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT Development
        FILES_MATCHING PATTERN "*.h")

# Two export sets, so that a program using the shared libraries needs none of the static ones'
# dependencies.
install(TARGETS gradboard_summary_shared gradboard_engine_shared
        EXPORT gradboard-shared-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development)
install(TARGETS gradboard_summary gradboard_engine
        EXPORT gradboard-static-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development)
foreach(kind shared static)
  install(EXPORT gradboard-${kind}-targets NAMESPACE gradboard:: DESTINATION ${GB_CMAKE_DIR}
          COMPONENT Development)
endforeach()

install(TARGETS gradboard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)

# The CMake package. 0.x releases may break the API at each minor version, so a request for 0.1
# is not satisfied by 0.2; from 1.0 on, the same major version is enough.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(GB_COMPATIBILITY SameMinorVersion)
else()
  set(GB_COMPATIBILITY SameMajorVersion)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/gradboardConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/gradboardConfig.cmake
  INSTALL_DESTINATION ${GB_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/gradboardConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${GB_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/package/gradboardConfig.cmake
              ${PROJECT_BINARY_DIR}/package/gradboardConfigVersion.cmake
        DESTINATION ${GB_CMAKE_DIR} COMPONENT Development)

# pkg-config files. What a static link needs goes in Requires.private / Libs.private, by
# pkg-config module where the dependency has one.
pkg_check_modules(GB_PC_ZLIB QUIET zlib)
set(GB_PC_SUMMARY_REQUIRES "libprotobuf-c >= 1.3")
set(GB_PC_SUMMARY_LIBS "${CMAKE_THREAD_LIBS_INIT}")
if(GB_PC_ZLIB_FOUND)
  string(APPEND GB_PC_SUMMARY_REQUIRES ", zlib")
else()
  string(APPEND GB_PC_SUMMARY_LIBS " -lz")
endif()
set(GB_PC_ENGINE_REQUIRES "snappy")
set(GB_PC_ENGINE_LIBS "")
if(OPENBLAS_FOUND)
  string(APPEND GB_PC_ENGINE_REQUIRES ", openblas")
else()
  list(JOIN BLAS_LIBRARIES " " GB_PC_ENGINE_LIBS)
endif()
if(GB_LIBM)
  string(APPEND GB_PC_SUMMARY_LIBS " -lm")
  string(APPEND GB_PC_ENGINE_LIBS " -lm")
endif()
string(STRIP "${GB_PC_SUMMARY_LIBS}" GB_PC_SUMMARY_LIBS)
string(STRIP "${GB_PC_ENGINE_LIBS}" GB_PC_ENGINE_LIBS)
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(GB_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(GB_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${GB_PKGCONFIG_DIR}")
  set(GB_PC_DESTINATION "${GB_PKGCONFIG_DIR}")
else()
  set(GB_PC_DESTINATION "\${CMAKE_INSTALL_PREFIX}/${GB_PKGCONFIG_DIR}")
endif()
# The prefix is known only when installing (`--prefix` may differ from CMAKE_INSTALL_PREFIX), so
# it is filled in then: configure_file keeps @GB_PC_PREFIX@ now and the install step replaces it.
set(GB_PC_PREFIX "@GB_PC_PREFIX@")
foreach(pc gradboard gradboard-summary)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${PROJECT_BINARY_DIR}/package/${pc}.pc.in @ONLY)
  install(CODE "
    set(GB_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/package/${pc}.pc.in\"
                   \"${PROJECT_BINARY_DIR}/package/install/${pc}.pc\" @ONLY)
    file(INSTALL DESTINATION \"${GB_PC_DESTINATION}\" TYPE FILE
         FILES \"${PROJECT_BINARY_DIR}/package/install/${pc}.pc\")"
    COMPONENT Development)
endforeach()

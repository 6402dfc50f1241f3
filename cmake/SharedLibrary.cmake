# Settings of the installed shared libraries (libgradboard_summary.so, libgradboard_engine.so).
include(CheckLinkerFlag)

# While the version is 0.x every minor release may change the ABI, so the soname carries the minor
# number too (libgradboard_summary.so.0.1); from 1.0 on, the major number alone.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(GB_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(GB_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

set(GB_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/gradboard.map)
check_linker_flag(C "-Wl,--version-script=${GB_VERSION_SCRIPT}" GB_HAVE_VERSION_SCRIPT)
check_linker_flag(C "-Wl,--no-undefined" GB_HAVE_NO_UNDEFINED)

# gb_shared_library_flags(TARGET): soname, exported symbols and link checks of one shared library.
function(gb_shared_library_flags target)
  set_target_properties(${target} PROPERTIES
    VERSION ${PROJECT_VERSION}
    SOVERSION ${GB_SOVERSION}
    # Each finds the other gradboard libraries next to it (the engine needs the logger), wherever
    # the tree is installed.
    INSTALL_RPATH "$ORIGIN")
  if(GB_HAVE_VERSION_SCRIPT)
    target_link_options(${target} PRIVATE "-Wl,--version-script=${GB_VERSION_SCRIPT}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${GB_VERSION_SCRIPT})
  endif()
  # Every library a shared library needs must be on its own link line, not left to the program
  # that loads it. Not under sanitizers: clang leaves their runtime to the executable.
  if(GB_HAVE_NO_UNDEFINED AND NOT GB_SANITIZE)
    target_link_options(${target} PRIVATE "-Wl,--no-undefined")
  endif()
endfunction()

# drctl_layer(NAME [DEPS layer...] [LIBS target...])
#
# Builds src/NAME/**.cc (without *_test.cc) into the library drctl_NAME, and src/NAME/**_test.cc
# into the unit-test binary drctl_NAME_test (label "unit"). The layer's headers are reachable as
# "NAME/..." only through an include directory that holds nothing but a link to src/NAME, and that
# directory is PUBLIC on drctl_NAME: only layers that link drctl_NAME can include its headers, so an
# upward include fails to compile.
function(drctl_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS" ${ARGN})
  set(dir ${CMAKE_SOURCE_DIR}/src/${name})
  set(inc ${CMAKE_BINARY_DIR}/layers/${name})
  string(REPLACE "/" "_" target_suffix ${name})
  get_filename_component(link_parent ${inc}/${name} DIRECTORY)
  file(MAKE_DIRECTORY ${link_parent})
  file(CREATE_LINK ${dir} ${inc}/${name} SYMBOLIC)

  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS ${dir}/*.cc)
  set(sources ${all_sources})
  set(tests ${all_sources})
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  list(FILTER tests INCLUDE REGEX "_test\\.cc$")

  set(lib drctl_${target_suffix})
  add_library(${lib} STATIC ${sources})
  target_include_directories(${lib} PUBLIC ${inc})
  set(dep_targets)
  foreach(dep ${ARG_DEPS})
    string(REPLACE "/" "_" dep_suffix ${dep})
    list(APPEND dep_targets drctl_${dep_suffix})
  endforeach()
  target_link_libraries(${lib} PUBLIC ${dep_targets} ${ARG_LIBS} drctl_options)

  if(tests)
    add_executable(${lib}_test ${tests})
    target_link_libraries(${lib}_test PRIVATE ${lib} GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${lib}_test PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

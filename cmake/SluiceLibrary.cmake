# sluice_library(NAME DIR LIBS...): one static library from every .cpp under DIR except the
# binaries' entry points (*_main.cpp), sluicectl's own folder (ctl/) and the sources listed in
# SLUICE_LIBRARY_EXCLUDE (absolute paths; they belong to another library). Files are globbed
# so a new source needs no CMake edit.
function(sluice_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "_main\\.cpp$")
  list(FILTER sources EXCLUDE REGEX "/ctl/")
  if(SLUICE_LIBRARY_EXCLUDE)
    list(REMOVE_ITEM sources ${SLUICE_LIBRARY_EXCLUDE})
  endif()
  add_library(${name} STATIC ${sources})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# sluice_tests(NAME DIR LIBS...): one GoogleTest binary from every *_test.cpp under DIR. Its tests
# carry the ctest label SLUICE_TEST_LABEL (unit unless the caller sets integration, load or wine),
# so a group runs alone (ctest -L unit), and that label's timeout (unit 60 s, load 600 s, others
# 300 s).
function(sluice_tests name dir)
  if(NOT SLUICE_TEST_LABEL)
    set(SLUICE_TEST_LABEL unit)
  endif()
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    SLUICE_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
    SLUICE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  # A timeout per label: in-process unit tests finish in seconds; the others run real processes.
  if(SLUICE_TEST_LABEL STREQUAL unit)
    set(timeout 60)
  elseif(SLUICE_TEST_LABEL STREQUAL load)
    set(timeout 600)
  else()
    set(timeout 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT ${timeout} LABELS ${SLUICE_TEST_LABEL})
endfunction()

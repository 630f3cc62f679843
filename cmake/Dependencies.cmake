# Every dependency is a Debian package; when one is missing, configure stops
# with one line naming the package to install.
function(rewind_require found package)
  if(NOT ${found})
    message(FATAL_ERROR "rewind: missing dependency: apt-get install ${package}")
  endif()
endfunction()

find_package(LLVM 19.1 CONFIG QUIET HINTS /usr/lib/llvm-19/lib/cmake/llvm)
rewind_require(LLVM_FOUND llvm-19-dev)

find_package(CapnProto CONFIG QUIET)
rewind_require(CapnProto_FOUND "libcapnp-dev capnproto")

find_package(PkgConfig QUIET)
rewind_require(PKG_CONFIG_FOUND pkg-config)
pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)
rewind_require(ZSTD_FOUND libzstd-dev)
pkg_check_modules(Z3 QUIET IMPORTED_TARGET z3)
rewind_require(Z3_FOUND libz3-dev)

find_package(Boost 1.74 QUIET COMPONENTS unit_test_framework)
rewind_require(Boost_FOUND libboost-test-dev)

find_program(CLANG19 clang-19)
rewind_require(CLANG19 clang-19)

# LLVM is linked as the one shared library; its headers are confined to the few
# targets that add this interface library.
add_library(rewind_llvm INTERFACE)
target_include_directories(rewind_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
target_compile_definitions(rewind_llvm INTERFACE ${LLVM_DEFINITIONS})
target_link_libraries(rewind_llvm INTERFACE LLVM)
target_link_directories(rewind_llvm INTERFACE ${LLVM_LIBRARY_DIRS})

# Finds what gradboard builds on. A missing dependency stops the configure step with the name of
# the Debian package that provides it (`make deps` installs them all).

find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package pkg-config (or run `make deps`)")
endif()

pkg_check_modules(PROTOBUF_C IMPORTED_TARGET libprotobuf-c>=1.3)
if(NOT PROTOBUF_C_FOUND)
  message(FATAL_ERROR "protobuf-c not found: install the Debian package libprotobuf-c-dev (or run `make deps`)")
endif()
find_program(PROTOC_C NAMES protoc-c protoc-gen-c)
if(NOT PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: install the Debian package protobuf-c-compiler (or run `make deps`)")
endif()

find_package(ZLIB)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "zlib not found: install the Debian package zlib1g-dev (or run `make deps`)")
endif()

pkg_check_modules(OPENBLAS IMPORTED_TARGET openblas)
if(NOT OPENBLAS_FOUND)
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS)
  if(NOT BLAS_FOUND)
    message(FATAL_ERROR "OpenBLAS not found: install the Debian package libopenblas-dev (or run `make deps`)")
  endif()
  set(OPENBLAS_VERSION "(found by FindBLAS)")
endif()
if(OPENBLAS_FOUND)
  set(GB_BLAS_TARGET PkgConfig::OPENBLAS)
else()
  set(GB_BLAS_TARGET BLAS::BLAS)
endif()

pkg_check_modules(SNAPPY IMPORTED_TARGET snappy)
if(NOT SNAPPY_FOUND)
  message(FATAL_ERROR "Snappy not found: install the Debian package libsnappy-dev (or run `make deps`)")
endif()

find_package(Threads REQUIRED)
find_library(MATH_LIBRARY m)
# Linked by name, so the exported targets and .pc files do not carry this machine's path to libm.
if(MATH_LIBRARY)
  set(GB_LIBM m)
else()
  set(GB_LIBM "")
endif()

if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  pkg_check_modules(CRITERION IMPORTED_TARGET criterion)
  if(NOT CRITERION_FOUND)
    message(FATAL_ERROR "Criterion not found: install the Debian package libcriterion-dev (or run `make deps`), "
                        "or configure with -DBUILD_TESTING=OFF")
  endif()
endif()

# CUDA is optional: on by default when the toolkit is found.
find_package(CUDAToolkit QUIET)
option(GB_CUDA "Build the CUDA backend" ${CUDAToolkit_FOUND})
if(GB_CUDA AND NOT CUDAToolkit_FOUND)
  message(FATAL_ERROR "GB_CUDA=ON but the CUDA Toolkit was not found (set CUDAToolkit_ROOT or -DGB_CUDA=OFF)")
endif()
if(GB_CUDA)
  set(GB_CUDA_SUMMARY "on (CUDA ${CUDAToolkit_VERSION})")
else()
  set(GB_CUDA_SUMMARY "off")
endif()

# Tensor contents and checkpoints are little-endian on disk; the code writes host memory as is.
if(CMAKE_C_BYTE_ORDER STREQUAL "BIG_ENDIAN")
  message(FATAL_ERROR "gradboard writes tensors in host byte order and needs a little-endian machine")
endif()

# Compiler warnings and sanitizers, applied to every drctl target through drctl_options.
add_library(drctl_options INTERFACE)
target_compile_options(drctl_options INTERFACE -Wall -Wextra -Wconversion -Wsign-conversion
                       -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wpedantic
                       -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports -Wrestrict false positives inside libstdc++'s std::string at -O2/-O3 (GCC bug
  # 105329); they are not about our code.
  target_compile_options(drctl_options INTERFACE -Wno-restrict)
endif()
if(DRCTL_WERROR)
  target_compile_options(drctl_options INTERFACE -Werror)
endif()
if(DRCTL_SANITIZE)
  target_compile_options(drctl_options INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(drctl_options INTERFACE -fsanitize=address,undefined)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # libstdc++ 12 hides std::expected unless __cpp_concepts >= 202002L; clang 16 implements what
  # that guard protects (P0848) but still reports 201907L. See doc/build.md.
  target_compile_options(drctl_options INTERFACE -Wno-builtin-macro-redefined -U__cpp_concepts
                         -D__cpp_concepts=202002L)
endif()
if(DRCTL_FUZZ)
  # Coverage instrumentation for libFuzzer in every library the fuzz targets link.
  target_compile_options(drctl_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

// FASTPLATE_CLONES: compile a hot function twice, for AVX2 and for the baseline ISA, and let the loader
// pick one (GCC/Clang target_clones, ifunc on x86-64 Linux). Wheels stay portable (no -march=native);
// elsewhere the macro is empty and the baseline code is used. AVX2 alone does not enable FMA, so
// floating-point results are the same in both clones.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FASTPLATE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef FASTPLATE_CLONES
#define FASTPLATE_CLONES
#endif

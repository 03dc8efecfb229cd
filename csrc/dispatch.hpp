// Run-time choice of instruction set for the hot loops. Wheels stay portable (no -march=native):
//
// - FASTPLATE_CLONES compiles a function twice, for AVX2 and for the baseline ISA, and lets the loader
//   pick one (GCC/Clang target_clones, ifunc on x86-64 Linux); elsewhere it is empty.
// - FASTPLATE_AVX2_INTRINSICS is defined where hand-written AVX2 code can be compiled (x86-64, GCC or
//   Clang); such code lives in functions marked FASTPLATE_TARGET_AVX2 and runs only if has_avx2().
//
// AVX2 alone does not enable FMA, and setup.py compiles with -ffp-contract=off, so floating-point results
// do not depend on the path taken.
#pragma once

// -DFASTPLATE_PORTABLE_ONLY builds the baseline code alone (to test it on an AVX2 machine).
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute) && !defined(FASTPLATE_PORTABLE_ONLY)
#if __has_attribute(target_clones)
#define FASTPLATE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef FASTPLATE_CLONES
#define FASTPLATE_CLONES
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(FASTPLATE_PORTABLE_ONLY)
#include <immintrin.h>
#define FASTPLATE_AVX2_INTRINSICS 1
#define FASTPLATE_TARGET_AVX2 __attribute__((target("avx2")))
// Helpers called from FASTPLATE_TARGET_AVX2 functions must be inlined into them.
#define FASTPLATE_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

inline bool has_avx2() {
    static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
    return yes;
}
#endif

/* Embeds the CUDA kernels' fat binary (built by nvcc from kernels/kernels.cu) as the read-only
 * byte array gb_cuda_fatbin, which cuda_context.c hands to cuModuleLoadData. */
    .section .rodata
    .balign 64
    .globl gb_cuda_fatbin
    .hidden gb_cuda_fatbin
    .type gb_cuda_fatbin, @object
gb_cuda_fatbin:
    .incbin GB_FATBIN_PATH
    .size gb_cuda_fatbin, . - gb_cuda_fatbin
    .section .note.GNU-stack, "", @progbits

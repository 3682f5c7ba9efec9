/* Context switch for x86-64 (System V) and aarch64 (AAPCS64): save callee-saved registers,
 * swap stack pointers, restore, jump. See ctx.h for the contract. */
#if defined(__x86_64__)
    .text
    .globl ua__ctx_swap
    .hidden ua__ctx_swap
    .type ua__ctx_swap, @function
    .p2align 4
/* void ua__ctx_swap(void **save (rdi), void *load (rsi)) */
ua__ctx_swap:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .cfi_endproc
    .size ua__ctx_swap, .-ua__ctx_swap

/* First code of a new coroutine: r12 = entry, r13 = arg (placed by ua_ctx_make); rsp is
 * 16-byte aligned here, so the call below sees the ABI's alignment. */
    .globl ua__ctx_trampoline
    .hidden ua__ctx_trampoline
    .type ua__ctx_trampoline, @function
    .p2align 4
ua__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    callq *%r12
    ud2
    .cfi_endproc
    .size ua__ctx_trampoline, .-ua__ctx_trampoline

#elif defined(__aarch64__)
    .text
    .globl ua__ctx_swap
    .hidden ua__ctx_swap
    .type ua__ctx_swap, %function
    .p2align 4
/* void ua__ctx_swap(void **save (x0), void *load (x1)) */
ua__ctx_swap:
    .cfi_startproc
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x2, sp
    str x2, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    br x30
    .cfi_endproc
    .size ua__ctx_swap, .-ua__ctx_swap

/* First code of a new coroutine: x19 = entry, x20 = arg (placed by ua_ctx_make). */
    .globl ua__ctx_trampoline
    .hidden ua__ctx_trampoline
    .type ua__ctx_trampoline, %function
    .p2align 4
ua__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov x0, x20
    mov x29, #0
    blr x19
    brk #0
    .cfi_endproc
    .size ua__ctx_trampoline, .-ua__ctx_trampoline
#else
#error "ctx_asm.S supports x86-64 and aarch64; configure with -Dcoro_backend=ucontext"
#endif

    .section .note.GNU-stack, "", @progbits

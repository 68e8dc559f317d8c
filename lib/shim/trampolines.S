/* Entry points that must not return through a C frame of ours:
 *  - vfork: the child runs on the parent's stack; if our wrapper's frame were live, the child's
 *    next calls would overwrite the return address the parent later returns through.
 *  - syscall: syscall(SYS_vfork) and syscall(SYS_clone, …) have the same problem.
 *  - dlopen: glibc resolves $ORIGIN and the caller's namespace from the return address.
 * Each one calls a C pre-hook with the caller's arguments, restores them and tail-jumps to libc.
 */
    .text

    .globl vfork
    .type vfork, @function
vfork:
    .cfi_startproc
    endbr64
    sub $8, %rsp                    /* 16-byte alignment for the call */
    .cfi_adjust_cfa_offset 8
    call cowtrace_vfork_pre_hook
    add $8, %rsp
    .cfi_adjust_cfa_offset -8
    jmp *cowtrace_real_vfork(%rip)
    .cfi_endproc
    .size vfork, .-vfork

    .globl syscall
    .type syscall, @function
syscall:
    .cfi_startproc
    endbr64
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    push %rdx
    .cfi_adjust_cfa_offset 8
    push %rcx
    .cfi_adjust_cfa_offset 8
    push %r8
    .cfi_adjust_cfa_offset 8
    push %r9
    .cfi_adjust_cfa_offset 8
    sub $8, %rsp
    .cfi_adjust_cfa_offset 8
    call cowtrace_syscall_pre_hook
    add $8, %rsp
    .cfi_adjust_cfa_offset -8
    pop %r9
    .cfi_adjust_cfa_offset -8
    pop %r8
    .cfi_adjust_cfa_offset -8
    pop %rcx
    .cfi_adjust_cfa_offset -8
    pop %rdx
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
    jmp *cowtrace_real_syscall(%rip)
    .cfi_endproc
    .size syscall, .-syscall

    .globl dlopen
    .type dlopen, @function
dlopen:
    .cfi_startproc
    endbr64
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    sub $8, %rsp
    .cfi_adjust_cfa_offset 8
    call cowtrace_dlopen_pre_hook
    add $8, %rsp
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
    jmp *cowtrace_real_dlopen(%rip)
    .cfi_endproc
    .size dlopen, .-dlopen

    .section .note.GNU-stack,"",@progbits

; A 64-bit compute loop: xorshift64 with a running sum. In: RDI iterations
; (at least 1). Out: RAX checksum. Clobbers RCX, RDX, RDI. The same bytes run
; as a ring-3 guest (followed by an OUT epilogue) and natively in the test
; process (followed by RET), so the two speeds compare like for like.
bits 64
  mov rax, 0x9e3779b97f4a7c15
  xor ecx, ecx
.loop:
  mov rdx, rax
  shl rdx, 13
  xor rax, rdx
  mov rdx, rax
  shr rdx, 7
  xor rax, rdx
  mov rdx, rax
  shl rdx, 17
  xor rax, rdx
  add rcx, rax
  dec rdi
  jnz .loop
  mov rax, rcx

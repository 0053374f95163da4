; 64-bit CPL 3: reports the TSC on port 0x700 (EAX, then EDX), then HLT
; (#GP to the ring-0 stub).
bits 64
  rdtsc
  mov ecx, edx
  mov dx, 0x700
  out dx, eax
  mov eax, ecx
  out dx, eax
  hlt

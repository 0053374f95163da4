; 64-bit ring 0 (on the long-mode scaffolding of kvm_test_util): the APIC
; MSRs and CR8 reach the platform. Results go to port 0x700; ends with an
; RDMSR of an MSR nobody implements, whose #GP lands on the vector-13 stub.
bits 64
port equ 0x700

  mov ecx, 0x1b              ; IA32_APIC_BASE: the platform answers
  rdmsr
  mov esi, edx
  mov dx, port
  out dx, eax
  mov eax, esi
  out dx, eax
  mov ecx, 0x808             ; x2APIC TPR: the platform takes the write
  mov eax, 0x20
  xor edx, edx
  wrmsr
  mov rax, cr8               ; the platform's TPR (set to 9 by the test)
  mov dx, port
  out dx, eax
  mov eax, 5
  mov cr8, rax               ; reaches the platform at the next exit
  out dx, eax
  mov ecx, 0x12345           ; nobody's MSR: #GP(0)
  rdmsr
  hlt                        ; not reached

// Files built into the binary with .incbin: GPULEDGER_EMBED(name, "/absolute/path") defines
// gpuledger_<name>_begin / _end around the file's bytes (a NUL follows _end). CMake passes the
// paths as compile definitions and lists the files in OBJECT_DEPENDS so edits rebuild.
#pragma once

#define GPULEDGER_EMBED(name, path)                 \
  __asm__(                                          \
      ".pushsection .rodata\n"                      \
      ".global gpuledger_" #name                    \
      "_begin\n"                                    \
      "gpuledger_" #name                            \
      "_begin:\n"                                   \
      ".incbin \"" path                             \
      "\"\n"                                        \
      ".global gpuledger_" #name                    \
      "_end\n"                                      \
      "gpuledger_" #name                            \
      "_end:\n"                                     \
      ".byte 0\n"                                   \
      ".popsection\n");                             \
  extern "C" const char gpuledger_##name##_begin[]; \
  extern "C" const char gpuledger_##name##_end[];

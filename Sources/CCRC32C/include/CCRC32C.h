#pragma once
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) over `length` bytes at `data`.
/// `crc` is the running value as returned by a previous call (start with 0); the pre- and post-inversion
/// are done inside, so `runnel_crc32c_extend(0, "123456789", 9) == 0xE3069283`.
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, else a slicing-by-8 table.
uint32_t runnel_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable table implementation, exposed so tests can check it against the hardware path.
uint32_t runnel_crc32c_extend_portable(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use, 0 otherwise.
int runnel_crc32c_has_hardware(void);

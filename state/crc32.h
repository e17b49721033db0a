#ifndef NETNSD_CRC32_H
#define NETNSD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli) of a buffer, used to tell a torn journal record. */
uint32_t crc32c(const void *buf, size_t len);

#endif

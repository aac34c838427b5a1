// Analog reads of a chunk of input vectors through one tile by 4-row subset-sum tables (private).
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
//
// Contract: read_analog_lut(r, t, tid, v0, v1, ...) computes, for every vector v in [v0, v1) and cell column
// j of tile t, the shift-and-add total T[v][j] = Σ_reads ±2^k · code (wrapping uint64) of the bit-level
// pipeline with analog cells (programming variation, read noise, stuck-at faults), exactly as the
// read-by-read definition in crossbar.hpp: per read (vector v, input bit k, row group g) the column sums
// of e and (with read noise) q over the read's active rows, noise σ·sqrt(Σq)·z with z from the stream
// (seed, ReadNoise, tile, vector) in the order (k, g, column), the ADC, the shift-and-add. Needs
// parallel_rows % 4 == 0. Results do not depend on how vectors are chunked or on the thread count.
// The totals are at s.totals + (v − v0)·s.stride, cell column j at offset j.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cimsim/config.hpp"
#include "tile.hpp"

namespace cimsim {

struct LutScratch {
    struct Read {
        std::uint32_t vi, k;  // vector within the chunk, input bit
    };
    std::vector<Read> reads;                       // in draw order (vector, input bit, row group)
    std::vector<std::vector<std::uint32_t>> group_reads;  // per row group: its reads' indices
    std::vector<std::uint32_t> first_read;         // per vector: its first read (reads are vector by vector)
    std::vector<std::uint64_t> rbits;              // per (vector, input bit): the tile rows' input bits
    AlignedVec<std::uint64_t> bits;                // 8 vectors' noise streams, lane-interleaved
    std::vector<std::uint16_t> idx;                // one vector's draws as 16-bit pieces
    AlignedVec<float> z;                           // per read: its draws, padded to whole 16-column blocks
    AlignedVec<float> tables, racc;                // subset-sum tables of one L1 pass; per-read partial sums
    AlignedVec<std::uint64_t> totals;              // per vector: the shift-and-add totals
    std::size_t stride = 0;
};

// Whether analog tiles of this config are read by 4-row tables (else read_analog in crossbar.cpp, row by row).
inline bool lut_reads(const Resolved &r) { return r.parallel_rows % 4 == 0; }

// Re-lays a programmed analog tile's e and q out column-blocked for read_analog_lut: 16-column blocks, each
// tr rows of 16 floats (zero past the last cell column), so a block's rows are contiguous.
void lut_layout(TileState &t);

void read_analog_lut(const Resolved &r, const TileState &t, std::uint32_t tid, std::uint32_t v0, std::uint32_t v1,
                     const std::uint64_t *xplanes, std::size_t wpp, double step, std::int64_t max_code, LutScratch &s);

}  // namespace cimsim

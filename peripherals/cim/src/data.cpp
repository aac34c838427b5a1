// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "data.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dynperiph::cim {

size_t dtype_size(uint32_t t) {
    switch (t) {
    case CIM_DTYPE_INT8: return 1;
    case CIM_DTYPE_INT16: return 2;
    case CIM_DTYPE_INT32:
    case CIM_DTYPE_FLOAT32: return 4;
    default: return 0;
    }
}

const char *dtype_name(uint32_t t) {
    switch (t) {
    case CIM_DTYPE_INT8: return "int8";
    case CIM_DTYPE_INT16: return "int16";
    case CIM_DTYPE_INT32: return "int32";
    case CIM_DTYPE_FLOAT32: return "float32";
    default: return "?";
    }
}

namespace {

template <typename T> T load(const void *data, size_t i) {
    T v;
    std::memcpy(&v, static_cast<const unsigned char *>(data) + i * sizeof(T), sizeof(T));
    return v; // the host is little-endian like the guest (x86-64 / aarch64 hosts)
}

int32_t int_element(const void *data, cim_dtype t, size_t i) {
    switch (t) {
    case CIM_DTYPE_INT8: return load<int8_t>(data, i);
    case CIM_DTYPE_INT16: return load<int16_t>(data, i);
    default: return load<int32_t>(data, i);
    }
}

} // namespace

double element(const void *data, cim_dtype t, size_t i) {
    if (t == CIM_DTYPE_FLOAT32)
        return load<float>(data, i);
    return int_element(data, t, i);
}

bool write_matrix_csv(const std::string &path, const void *data, cim_dtype t, size_t nrows, size_t ncols,
                      std::string &err) {
    FILE *f = std::fopen(path.c_str(), "wx");
    if (!f) {
        err = "cannot create " + path + ": " + std::strerror(errno);
        return false;
    }
    std::string line;
    char num[32];
    for (size_t r = 0; r < nrows; ++r) {
        line.clear();
        for (size_t c = 0; c < ncols; ++c) {
            const size_t i = r * ncols + c;
            if (t == CIM_DTYPE_FLOAT32)
                std::snprintf(num, sizeof num, "%.9g", static_cast<double>(load<float>(data, i)));
            else
                std::snprintf(num, sizeof num, "%d", int_element(data, t, i));
            if (c)
                line += ',';
            line += num;
        }
        line += '\n';
        if (std::fwrite(line.data(), 1, line.size(), f) != line.size())
            break;
    }
    const bool ok = !std::ferror(f);
    if (std::fclose(f) != 0 || !ok) {
        err = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool write_request_csvs(cim_request &req, const std::string &dir, std::string (&storage)[2], std::string &err) {
    storage[0] = dir + "/weights.csv";
    if (!write_matrix_csv(storage[0], req.weights, req.dtype, req.rows, req.cols, err))
        return false;
    req.weights_csv = storage[0].c_str();
    req.inputs_csv = nullptr;
    if (req.n_vectors) {
        storage[1] = dir + "/inputs.csv";
        if (!write_matrix_csv(storage[1], req.inputs, req.dtype, req.n_vectors, req.rows, err))
            return false;
        req.inputs_csv = storage[1].c_str();
    }
    return true;
}

std::vector<uint32_t> reference_mvm(const cim_request &req) {
    std::vector<uint32_t> out(static_cast<size_t>(req.n_vectors) * req.cols);
    for (uint32_t v = 0; v < req.n_vectors; ++v) {
        for (uint32_t j = 0; j < req.cols; ++j) {
            uint32_t word;
            if (req.dtype == CIM_DTYPE_FLOAT32) {
                float acc = 0.0f;
                for (uint32_t i = 0; i < req.rows; ++i)
                    acc += load<float>(req.inputs, size_t(v) * req.rows + i) *
                           load<float>(req.weights, size_t(i) * req.cols + j);
                std::memcpy(&word, &acc, 4);
            } else {
                uint32_t acc = 0; // wrapping 32-bit accumulator
                for (uint32_t i = 0; i < req.rows; ++i)
                    acc += static_cast<uint32_t>(int_element(req.inputs, req.dtype, size_t(v) * req.rows + i)) *
                           static_cast<uint32_t>(int_element(req.weights, req.dtype, size_t(i) * req.cols + j));
                word = acc;
            }
            out[size_t(v) * req.cols + j] = word;
        }
    }
    return out;
}

} // namespace dynperiph::cim

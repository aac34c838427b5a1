// Helpers shared by the CIM unit tests.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data.hpp"
#include "ops.hpp"
#include "workdir.hpp"

namespace cimtest {

inline std::string read_file(const std::string &path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

inline void write_file(const std::string &path, const std::string &text) {
    std::ofstream f(path);
    f << text;
}

// A scratch directory for configs; removed at the end of the test.
struct Scratch {
    dynperiph::cim::WorkDir dir;
    Scratch() {
        std::string err;
        EXPECT_TRUE(dir.create(err)) << err;
    }
    std::string put(const char *name, const std::string &text) {
        write_file(dir.file(name), text);
        return dir.file(name);
    }
};

// Loads a config; returns the table or records the error text in `err`.
inline std::unique_ptr<dynperiph::cim::OpTable> load(const std::string &path, std::string &err) {
    try {
        return dynperiph::cim::OpTable::load(path, CIM_PLUGIN_DIR);
    } catch (const dynperiph::cim::ConfigError &e) {
        err = e.what();
        return nullptr;
    }
}

// One request + its buffers, run the way the cim composition runs it (private work dir, CSVs for
// backends that want them, directory removed afterwards).
struct Job {
    cim_dtype dtype = CIM_DTYPE_INT32;
    uint32_t rows = 0, cols = 0, nvec = 0;
    std::vector<uint8_t> w, x;
    std::vector<uint32_t> out;
    cim_result res{};
    dp_status status = DP_ERR_INTERNAL;
    std::string work_dir; // path of the (now removed) work dir

    template <typename T>
    Job(cim_dtype t, uint32_t r, uint32_t c, const std::vector<T> &weights, const std::vector<T> &inputs)
        : dtype(t), rows(r), cols(c), nvec(static_cast<uint32_t>(inputs.size() / r)) {
        w.resize(weights.size() * sizeof(T));
        std::memcpy(w.data(), weights.data(), w.size());
        x.resize(inputs.size() * sizeof(T));
        if (!x.empty())
            std::memcpy(x.data(), inputs.data(), x.size());
    }

    cim_request request() const {
        cim_request req{};
        req.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
        req.dtype = dtype;
        req.rows = rows;
        req.cols = cols;
        req.n_vectors = nvec;
        req.weights = w.data();
        req.inputs = nvec ? x.data() : nullptr;
        return req;
    }

    // `inspect` runs before the work dir is removed.
    template <typename F = void (*)(const std::string &)>
    dp_status run(const dynperiph::cim::Operation &op, F inspect = [](const std::string &) {}) {
        dynperiph::cim::WorkDir wd;
        std::string err, paths[2];
        EXPECT_TRUE(wd.create(err)) << err;
        cim_request req = request();
        req.work_dir = wd.path().c_str();
        if (op.wants_csv()) {
            EXPECT_TRUE(dynperiph::cim::write_request_csvs(req, wd.path(), paths, err)) << err;
        }
        out.assign(size_t(nvec) * cols, 0xdeadbeef);
        res = cim_result{};
        res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
        res.outputs = out.data();
        res.out_capacity = out.size();
        status = op.run(req, res);
        inspect(wd.path());
        work_dir = wd.path();
        return status;
    }

    std::vector<uint32_t> expected() const { return dynperiph::cim::reference_mvm(request()); }
};

} // namespace cimtest

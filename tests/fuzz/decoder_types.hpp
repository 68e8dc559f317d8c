// The record types an input of the record_decoder target can be (its byte 0 picks one): every
// type of the schema, the retired type 31, and two no reader knows (readers must skip those).
// seed_corpus.cpp writes inputs with the same numbering.
#pragma once

#include <cstdint>
#include <vector>

#include "wire/all_records.hpp"

namespace cowtrace::fuzz {

inline const std::vector<uint16_t>& decoder_types() {
    static const std::vector<uint16_t> types = [] {
        std::vector<uint16_t> out;
        for (wire::RecordType t : wire::AllRecords::kTypes) out.push_back(static_cast<uint16_t>(t));
        out.insert(out.end(), {31, 13, 999});
        return out;
    }();
    return types;
}

}  // namespace cowtrace::fuzz

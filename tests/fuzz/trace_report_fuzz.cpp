// libFuzzer target: the whole path of `cowtrace report` on an untrusted file — TraceReader,
// the tree builder, and every renderer the report command offers — with the input as the file.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <vector>

#include "model/tree_builder.hpp"
#include "report/folded_stacks.hpp"
#include "report/html_report.hpp"
#include "report/json_report.hpp"
#include "report/perfetto_report.hpp"
#include "report/text_report.hpp"
#include "trace/trace_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    cowtrace::TraceReader reader;
    if (!reader.open_buffer(data, size)) return 0;
    std::vector<cowtrace::RawRecord> records;
    cowtrace::RawRecord rec;
    while (reader.next(rec)) records.push_back(rec);

    // As build_process_tree() does for a file.
    cowtrace::model::ProcessTree tree;
    tree.reader_error = reader.error();
    cowtrace::model::build_process_tree_from(std::move(records), tree);

    // As tools/cowtrace/report_command.cpp renders each --format.
    std::ostringstream out;
    cowtrace::report::write_json(tree, out);
    cowtrace::report::TextOptions options;
    cowtrace::report::write_text(tree, options, out);
    options.show_argv = true;
    options.compact = false;
    cowtrace::report::write_text(tree, options, out);
    cowtrace::report::write_perfetto(tree, out);
    cowtrace::report::write_html(tree, out);
    cowtrace::report::write_folded(tree, out);
    return 0;
}

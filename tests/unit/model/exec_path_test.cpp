// Exec paths as the model keeps them: interned text, shared by every exec that named the file
// the same way.
#include "model/exec_path.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cowtrace::model {
namespace {

TEST(ExecPath, InternedPathsSpeltAlikeShareStorage) {
    CommandLineTable table;
    ExecPath a = ExecPath::interned("/usr/bin/cc", table);
    ExecPath b = ExecPath::interned(std::string("/usr/bin/cc"), table);
    EXPECT_TRUE(a.shares_storage_with(b));
    EXPECT_EQ(a.view(), "/usr/bin/cc");
    EXPECT_FALSE(a.shares_storage_with(ExecPath::interned("/usr/bin/c++", table)));
}

TEST(ExecPath, SharesTheOneWordCommandLineSpeltTheSame) {
    CommandLineTable table;
    CommandLine argv = table.intern(std::vector<std::string>{"/bin/true"});
    ExecPath path = ExecPath::interned("/bin/true", table);
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(path.str(), argv[0]);
}

TEST(ExecPath, EmptyPathIsNoPath) {
    CommandLineTable table;
    EXPECT_TRUE(ExecPath::interned("", table).empty());
    EXPECT_TRUE(ExecPath().empty());
    EXPECT_EQ(ExecPath(), ExecPath(""));
    EXPECT_EQ(ExecPath().view(), "");
    EXPECT_EQ(table.size(), 0u);
}

TEST(ExecPath, ComparesByTextWhateverItsStorage) {
    CommandLineTable table;
    ExecPath interned = ExecPath::interned("ls", table);
    ExecPath own("ls");
    EXPECT_FALSE(interned.shares_storage_with(own));
    EXPECT_EQ(interned, own);
    EXPECT_NE(interned, ExecPath("/usr/bin/ls"));
}

}  // namespace
}  // namespace cowtrace::model

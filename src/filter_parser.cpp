// Recursive-descent parser for RFC 7644 §3.4.2.2 filters.
//
//   or      := and *( SP "or" SP and )
//   and     := unary *( SP "and" SP unary )
//   unary   := "not" [SP] "(" or ")" / "(" or ")" / attrExp / valuePath
//   valuePath := attrPath "[" or "]"         (no nested valuePath inside)
//   attrExp := attrPath SP "pr" / attrPath SP compareOp SP compValue
//
// Keywords and operators are case-insensitive; precedence is not > and > or.
#include <cstring>

#include "filter.hpp"
#include "scim_error.hpp"
#include "util.hpp"

namespace scim {
namespace {

constexpr int kMaxDepth = 32;

class Parser {
public:
    explicit Parser(std::string_view s, const char* scim_type = "invalidFilter",
                    const char* what = "filter")
        : s_(s), scim_type_(scim_type), what_(what) {}

    std::unique_ptr<Filter> parse() {
        skip_ws();
        if (pos_ == s_.size()) error("the filter is empty", pos_);
        auto f = parse_or(false, 0);
        skip_ws();
        if (pos_ != s_.size()) {
            if (s_[pos_] == ')') error("unbalanced \")\"", pos_);
            error("expected \"and\", \"or\" or the end of the filter", pos_);
        }
        return f;
    }

    AttrPath parse_lone_attr_path() {
        AttrPath p = parse_attr_path();
        if (pos_ != s_.size()) error("unexpected character", pos_);
        return p;
    }

private:
    std::string_view s_;
    const char* scim_type_;
    const char* what_;
    size_t pos_ = 0;

    [[noreturn]] void error(const std::string& what, size_t at) {
        fail(400, scim_type_,
             format("invalid %s: %s at position %zu: %.*s", what_, what.c_str(), at + 1,
                    static_cast<int>(s_.size()), s_.data()));
    }

    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) pos_++;
    }

    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '$' || c == ':' || c == '.';
    }

    // A case-insensitive keyword that is not the prefix of a longer name.
    bool accept_word(const char* word) {
        size_t n = strlen(word);
        if (pos_ + n > s_.size() || !iequals(s_.substr(pos_, n), word)) return false;
        if (pos_ + n < s_.size() && name_char(s_[pos_ + n])) return false;
        pos_ += n;
        return true;
    }

    std::unique_ptr<Filter> binary(Filter::Kind kind, std::unique_ptr<Filter> l,
                                   std::unique_ptr<Filter> r) {
        auto f = std::make_unique<Filter>();
        f->kind = kind;
        f->left = std::move(l);
        f->right = std::move(r);
        return f;
    }

    std::unique_ptr<Filter> parse_or(bool in_brackets, int depth) {
        auto left = parse_and(in_brackets, depth);
        for (;;) {
            size_t save = pos_;
            skip_ws();
            if (save == pos_ || !accept_word("or")) {
                pos_ = save;
                return left;
            }
            require_space("\"or\"");
            left = binary(Filter::Kind::Or, std::move(left), parse_and(in_brackets, depth));
        }
    }

    std::unique_ptr<Filter> parse_and(bool in_brackets, int depth) {
        auto left = parse_unary(in_brackets, depth);
        for (;;) {
            size_t save = pos_;
            skip_ws();
            if (save == pos_ || !accept_word("and")) {
                pos_ = save;
                return left;
            }
            require_space("\"and\"");
            left = binary(Filter::Kind::And, std::move(left), parse_unary(in_brackets, depth));
        }
    }

    void require_space(const char* after) {
        if (pos_ >= s_.size()) error(format("expected an expression after %s", after), pos_);
        if (s_[pos_] != ' ' && s_[pos_] != '\t' && s_[pos_] != '(')
            error(format("expected a space after %s", after), pos_);
        skip_ws();
    }

    std::unique_ptr<Filter> parse_group(bool in_brackets, int depth) {
        size_t open = pos_;
        pos_++;  // '('
        skip_ws();
        auto inner = parse_or(in_brackets, depth + 1);
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != ')') error("missing \")\" for the \"(\"", open);
        pos_++;
        return inner;
    }

    std::unique_ptr<Filter> parse_unary(bool in_brackets, int depth) {
        if (depth > kMaxDepth) error("the filter is nested too deeply", pos_);
        skip_ws();
        if (pos_ >= s_.size()) error("expected an expression", pos_);
        size_t start = pos_;
        if (accept_word("not")) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '(') {
                // "not" may also be an attribute name followed by an operator.
                pos_ = start;
            } else {
                auto f = std::make_unique<Filter>();
                f->kind = Filter::Kind::Not;
                f->left = parse_group(in_brackets, depth);
                return f;
            }
        }
        if (s_[pos_] == '(') return parse_group(in_brackets, depth);
        return parse_attr_expression(in_brackets, depth);
    }

    AttrPath parse_attr_path() {
        AttrPath p;
        p.position = pos_ + 1;
        size_t start = pos_;
        while (pos_ < s_.size() && name_char(s_[pos_])) pos_++;
        std::string_view name = s_.substr(start, pos_ - start);
        if (name.empty()) error("expected an attribute name", start);
        if (istarts_with(name, "urn:")) {
            size_t colon = name.rfind(':');
            p.urn = std::string(name.substr(0, colon));
            name = name.substr(colon + 1);
            if (name.empty()) error("expected an attribute name after the schema URN", pos_);
        }
        size_t dot = name.find('.');
        if (dot != std::string_view::npos) {
            p.attr = std::string(name.substr(0, dot));
            p.sub = std::string(name.substr(dot + 1));
            if (p.sub.empty() || p.sub.find('.') != std::string::npos)
                error("an attribute path has at most one sub-attribute", start);
        } else {
            p.attr = std::string(name);
        }
        auto valid = [](const std::string& n) {
            return !n.empty() && ((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') ||
                                  n == "$ref");
        };
        if (!valid(p.attr) || (!p.sub.empty() && !valid(p.sub)))
            error("an attribute name starts with a letter", start);
        return p;
    }

    std::unique_ptr<Filter> parse_attr_expression(bool in_brackets, int depth) {
        auto f = std::make_unique<Filter>();
        f->path = parse_attr_path();
        if (pos_ < s_.size() && s_[pos_] == '[') {
            if (in_brackets) error("a value filter cannot contain another \"[\"", pos_);
            if (!f->path.sub.empty())
                error("a value filter applies to an attribute, not a sub-attribute", pos_);
            size_t open = pos_;
            pos_++;
            f->kind = Filter::Kind::ValuePath;
            f->left = parse_or(true, depth + 1);
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ']') error("missing \"]\" for the \"[\"", open);
            pos_++;
            return f;
        }
        size_t save = pos_;
        skip_ws();
        if (save == pos_) error("expected a space and an operator after the attribute", pos_);
        f->kind = Filter::Kind::Compare;
        static const struct {
            const char* word;
            FilterOp op;
        } ops[] = {{"eq", FilterOp::Eq}, {"ne", FilterOp::Ne}, {"co", FilterOp::Co},
                   {"sw", FilterOp::Sw}, {"ew", FilterOp::Ew}, {"gt", FilterOp::Gt},
                   {"ge", FilterOp::Ge}, {"lt", FilterOp::Lt}, {"le", FilterOp::Le},
                   {"pr", FilterOp::Pr}};
        size_t op_pos = pos_;
        bool found = false;
        for (const auto& o : ops) {
            if (accept_word(o.word)) {
                f->op = o.op;
                found = true;
                break;
            }
        }
        if (!found)
            error("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)", op_pos);
        if (f->op == FilterOp::Pr) return f;
        save = pos_;
        skip_ws();
        if (save == pos_) error("expected a space and a value after the operator", pos_);
        f->value = parse_value();
        return f;
    }

    Json parse_value() {
        size_t start = pos_;
        if (pos_ >= s_.size())
            error("expected a value (a quoted string, a number, true, false or null)", pos_);
        if (accept_word("true")) return take(json_true());
        if (accept_word("false")) return take(json_false());
        if (accept_word("null")) return take(json_null());
        char c = s_[pos_];
        if (c == '"') {
            pos_++;
            bool escaped = false;
            while (pos_ < s_.size() && s_[pos_] != '"') {
                if (s_[pos_] == '\\') {
                    escaped = true;
                    pos_++;
                }
                pos_++;
            }
            if (pos_ >= s_.size()) error("unterminated string", start);
            pos_++;
            // Most values are plain: take them as they are, checking UTF-8.
            if (!escaped) {
                json_t* v = json_stringn(s_.data() + start + 1, pos_ - start - 2);
                if (!v) error("invalid value (not UTF-8)", start);
                return take(v);
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            while (pos_ < s_.size() && (std::strchr("0123456789+-.eE", s_[pos_]) != nullptr))
                pos_++;
        } else {
            error("expected a value (a quoted string, a number, true, false or null)", start);
        }
        json_error_t jerr;
        json_t* v = json_loadb(s_.data() + start, pos_ - start, JSON_DECODE_ANY, &jerr);
        if (v == nullptr) error(format("invalid value (%s)", jerr.text), start);
        return take(v);
    }
};

}  // namespace

std::unique_ptr<Filter> parse_filter(std::string_view text) { return Parser(text).parse(); }

AttrPath parse_attr_path(std::string_view text, const char* scim_type) {
    return Parser(text, scim_type, "attribute path").parse_lone_attr_path();
}

}  // namespace scim

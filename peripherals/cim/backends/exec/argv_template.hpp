// argv templates of the exec backend: "{name}" placeholders, "{{" / "}}" for literal braces.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dynperiph::cim::exec {

// The placeholders an argv template may use (sorted).
const std::vector<std::string> &known_placeholders();

// Checks one template element: every placeholder is known and braces balance. Returns "" or a reason.
std::string check_template(const std::string &tmpl);

// Names of the placeholders used in `tmpl` (tmpl must have passed check_template).
std::vector<std::string> placeholders_in(const std::string &tmpl);

// Substitutes values; a placeholder missing from `values` expands to "".
std::string expand_template(const std::string &tmpl, const std::map<std::string, std::string> &values);

} // namespace dynperiph::cim::exec

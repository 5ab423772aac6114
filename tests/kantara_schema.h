// Validation of a receipt's Kantara form against the Kantara Initiative's
// published JSON Schema for Consent Receipt v1.1 (tests/data/kantara, kept
// verbatim, comments included), with RapidJSON's draft-04 validator.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <string>

#include "test_util.h"

namespace qorgau::testing {

// "" when `json` is valid against the schema; else what is wrong and where.
inline std::string KantaraSchemaErrors(const std::string& json) {
  static const std::string schema_text =
      ReadFile(SourceDir() / "tests/data/kantara/kantara-consent-receipt-v1_1-schema.json");
  rapidjson::Document schema_doc;
  // The published file opens with two // comment lines.
  schema_doc.Parse<rapidjson::kParseCommentsFlag>(schema_text.c_str());
  if (schema_doc.HasParseError()) {
    return std::string("the schema does not parse: ") + rapidjson::GetParseError_En(schema_doc.GetParseError());
  }
  const rapidjson::SchemaDocument schema(schema_doc);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError()) return std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError());
  rapidjson::SchemaValidator validator(schema);
  if (doc.Accept(validator)) return "";
  rapidjson::StringBuffer where, rule;
  validator.GetInvalidSchemaPointer().StringifyUriFragment(rule);
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  return std::string("invalid at ") + where.GetString() + ": fails " + rule.GetString() + " (" +
         validator.GetInvalidSchemaKeyword() + ")";
}

}  // namespace qorgau::testing

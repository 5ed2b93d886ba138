// Spark 3.5's CSV tokenizer, driven as the Glue job drives it: univocity-parsers 2.9.1 (the version
// Spark 3.5 bundles; Debian libunivocity-parsers-java), set up from Spark reader options exactly as
// CSVOptions.asParserSettings does, and read as UnivocityParser.convertStream reads a multiLine file
// or, with multiLine off, as Hadoop's line reader and UnivocityParser.parseIterator read it line by
// line (readLines says how).
//
// Run: java -cp /usr/share/java/univocity-parsers.jar SparkCsvHarness.java <manifest>
//
// The manifest (UTF-8, one item a line, fields separated by TAB, strings as hex of their UTF-8):
//   O <dialect> <key hex> <value hex>    a Spark reader option of a dialect (reader_options' output)
//   J <job> <dialect> <buffer> <path hex> a file to read with a dialect's options; <buffer> > 0 is
//                                         the inputBufferSize option for this job, 0 leaves it unset
// Output, one line per job, in manifest order: <job> TAB a JSON array of records, each an array of
// fields, null for what Spark makes NULL (univocity's nullValue); or <job> TAB ERROR TAB <message>.
//
// Spark sources followed (apache/spark branch-3.5):
//   sql/catalyst/src/main/scala/org/apache/spark/sql/catalyst/csv/CSVOptions.scala
//     getChar, getBool, getInt, delimiter, quote, escape, charToEscapeQuoteEscaping, comment,
//     isCommentSet, nullValue, emptyValueInRead, lineSeparator, inputBufferSize,
//     unescapedQuoteHandling, maxColumns, maxCharsPerColumn, and asParserSettings (every setter,
//     in its order).
//   sql/catalyst/src/main/scala/org/apache/spark/sql/catalyst/csv/CSVExprUtils.scala
//     toDelimiterStr / toChar (the `sep` option's escapes: `\t`, `\\` …; a single `\` is refused).
//   sql/catalyst/src/main/scala/org/apache/spark/sql/catalyst/csv/UnivocityParser.scala
//     convertStream: tokenizer.beginParsing(inputStream, options.charset), then parseNext() until
//     null; nullSafeDatum: a datum equal to options.nullValue (or null) becomes NULL.
//   sql/core/.../datasources/csv/CSVDataSource.scala (MultiLineCSVDataSource, TextInputCSVDataSource),
//   sql/catalyst/.../csv/CSVExprUtils.scala (filterCommentAndEmpty, extractHeader: in branch-3.5
//     the comment test applies only when `comment` is set, the trim() test always), hadoop-mapreduce-client-core
//     org/apache/hadoop/mapreduce/lib/input/LineRecordReader.java and
//     hadoop-common org/apache/hadoop/util/LineReader.java (readDefaultLine), and
//   CSVHeaderChecker.checkHeaderColumnNames: with header=true the first record parseNext() gives
//     is the header (it is printed here as record 0; the caller drops it).
import com.univocity.parsers.csv.CsvFormat;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import com.univocity.parsers.csv.UnescapedQuoteHandling;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

public class SparkCsvHarness {
  /**
   * Options this harness knows how Spark turns into parser settings (or, for header, mode,
   * inferSchema and encoding, how they shape the read). An option outside this list fails the
   * run: a reader option added to the Glue script must be modelled here before the test passes.
   */
  static final Set<String> KNOWN =
      Set.of(
          "header", "inferschema", "multiline", "sep", "delimiter", "quote", "escape", "encoding",
          "charset", "mode", "nullvalue", "emptyvalue", "ignoreleadingwhitespace",
          "ignoretrailingwhitespace", "maxcharspercolumn", "maxcolumns", "comment", "linesep",
          "inputbuffersize", "unescapedquotehandling", "chartoescapequoteescaping");

  public static void main(String[] args) throws Exception {
    List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
    Map<String, Map<String, String>> dialects = new HashMap<>();
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    for (String line : lines) {
      if (line.isEmpty()) continue;
      String[] f = line.split("\t", -1);
      if (f[0].equals("O")) {
        // Spark's options are a CaseInsensitiveMap.
        dialects
            .computeIfAbsent(f[1], k -> new LinkedHashMap<>())
            .put(unhex(f[2]).toLowerCase(Locale.ROOT), unhex(f[3]));
      } else if (f[0].equals("J")) {
        Map<String, String> options = new LinkedHashMap<>(dialects.get(f[2]));
        int buffer = Integer.parseInt(f[3]);
        if (buffer > 0) options.put("inputbuffersize", Integer.toString(buffer));
        try {
          out.print(f[1] + "\t" + read(options, Path.of(unhex(f[4]))) + "\n");
        } catch (Exception e) {
          out.print(f[1] + "\tERROR\t" + (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ") + "\n");
        }
      } else {
        throw new IllegalArgumentException("bad manifest line: " + line);
      }
    }
    out.flush();
  }

  /**
   * The records of one file as JSON, read as Spark's CSV source reads it: whole (multiLine,
   * MultiLineCSVDataSource) or line by line (TextInputCSVDataSource), as the options say.
   */
  static String read(Map<String, String> p, Path file) throws Exception {
    for (String key : p.keySet()) {
      if (!KNOWN.contains(key)) throw new IllegalArgumentException("unmodelled reader option " + key);
    }
    // What the Glue job relies on for the rest of this harness to be Spark's read.
    require(getBool(p, "header", false), "header must be true");
    require(!getBool(p, "inferschema", false), "inferSchema must be false");
    require(!p.containsKey("comment"), "comment must be unset (filterCommentAndEmpty is modelled without it)");
    String charset = p.getOrDefault("encoding", p.getOrDefault("charset", "UTF-8"));
    String nullValue = p.getOrDefault("nullvalue", "");
    CsvParser tokenizer = new CsvParser(asParserSettings(p));
    StringBuilder json = new StringBuilder("[");
    if (!getBool(p, "multiline", false)) {
      require(!p.containsKey("linesep"), "lineSep must be unset (Hadoop's default line reader is modelled)");
      boolean first = true;
      for (String[] record : readLines(tokenizer, Files.readAllBytes(file), Charset.forName(charset))) {
        if (!first) json.append(',');
        first = false;
        appendRecord(json, record, nullValue);
      }
      return json.append(']').toString();
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      tokenizer.beginParsing(in, charset);
      String[] record;
      boolean first = true;
      while ((record = tokenizer.parseNext()) != null) {
        if (!first) json.append(',');
        first = false;
        appendRecord(json, record, nullValue);
      }
    } finally {
      tokenizer.stopParsing();
    }
    return json.append(']').toString();
  }

  static void appendRecord(StringBuilder json, String[] record, String nullValue) {
    json.append('[');
    for (int i = 0; i < record.length; i++) {
      if (i > 0) json.append(',');
      String datum = record[i];
      // UnivocityParser.nullSafeDatum: `datum == options.nullValue || datum == null` is NULL.
      if (datum == null || datum.equals(nullValue)) json.append("null");
      else appendJsonString(json, datum);
    }
    json.append(']');
  }

  /**
   * Spark's line-by-line read (multiLine off), the header first:
   * - Hadoop's LineRecordReader (through HadoopFileLinesReader, no lineSep so no custom delimiter):
   *   at position 0 it drops a UTF-8 BOM (skipUtfByteOrderMark); LineReader.readDefaultLine ends
   *   a line at LF, CR or CRLF and returns it without its ending; a last line without an ending is
   *   a line, an empty remainder is not. A split that does not start at 0 throws away its first
   *   (partial) line and every split reads one line past its end, so the splits' lines are the
   *   file's lines, each once, in order: the lines are modelled for the whole file, as one split.
   * - each line decoded alone with the charset (TextInputCSVDataSource.readFile);
   * - the header (CSVHeaderChecker.checkHeaderColumnNames, only in the split starting at 0):
   *   CSVExprUtils.extractHeader skips lines whose trim() is empty and takes the next one, parsed
   *   with tokenizer.parseLine (schema inference takes the same first line for column names);
   * - the data (UnivocityParser.parseIterator): CSVExprUtils.filterCommentAndEmpty keeps a line
   *   whose String.trim() is not empty (no comment option set), then tokenizer.parseLine(line).
   */
  static List<String[]> readLines(CsvParser tokenizer, byte[] bytes, Charset charset) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    if (bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF)
      start = 3;
    int i = start;
    while (i < bytes.length) {
      byte b = bytes[i];
      if (b == '\n' || b == '\r') {
        lines.add(new String(bytes, start, i - start, charset));
        i += (b == '\r' && i + 1 < bytes.length && bytes[i + 1] == '\n') ? 2 : 1;
        start = i;
      } else {
        i++;
      }
    }
    if (start < bytes.length) lines.add(new String(bytes, start, bytes.length - start, charset));
    List<String[]> records = new ArrayList<>();
    int k = 0;
    while (k < lines.size() && lines.get(k).trim().isEmpty()) k++;
    if (k == lines.size()) return records;
    records.add(tokenizer.parseLine(lines.get(k++)));
    for (; k < lines.size(); k++) {
      String line = lines.get(k);
      if (!line.trim().isEmpty()) records.add(tokenizer.parseLine(line));
    }
    return records;
  }

  /** CSVOptions.asParserSettings, setter for setter, from the options as CSVOptions reads them. */
  static CsvParserSettings asParserSettings(Map<String, String> p) {
    String delimiter = toDelimiterStr(p.getOrDefault("sep", p.getOrDefault("delimiter", ",")));
    char quote = getChar(p, "quote", '"');
    char escape = getChar(p, "escape", '\\');
    String toEscape = p.get("chartoescapequoteescaping");
    if (toEscape != null && toEscape.length() > 1)
      throw new IllegalArgumentException("charToEscapeQuoteEscaping cannot be more than one character");
    char comment = getChar(p, "comment", '\u0000');
    boolean isCommentSet = p.containsKey("comment") && p.get("comment").length() == 1;
    boolean ignoreLeading = getBool(p, "ignoreleadingwhitespace", false);
    boolean ignoreTrailing = getBool(p, "ignoretrailingwhitespace", false);
    String nullValue = p.getOrDefault("nullvalue", "");
    String emptyValueInRead = p.getOrDefault("emptyvalue", "");
    int maxColumns = getInt(p, "maxcolumns", 20480);
    int maxCharsPerColumn = getInt(p, "maxcharspercolumn", -1);
    boolean multiLine = getBool(p, "multiline", false);
    String lineSep = p.get("linesep");
    if (lineSep != null && (lineSep.isEmpty() || lineSep.length() > 2))
      throw new IllegalArgumentException("'lineSep' can contain only 1 character.");
    String bufferSize = p.get("inputbuffersize");
    UnescapedQuoteHandling unescapedQuoteHandling =
        UnescapedQuoteHandling.valueOf(
            p.getOrDefault("unescapedquotehandling", "STOP_AT_DELIMITER").toUpperCase(Locale.ROOT));

    CsvParserSettings settings = new CsvParserSettings();
    CsvFormat format = settings.getFormat();
    format.setDelimiter(delimiter);
    format.setQuote(quote);
    format.setQuoteEscape(escape);
    if (lineSep != null) format.setLineSeparator(lineSep);
    if (toEscape != null && toEscape.length() == 1) format.setCharToEscapeQuoteEscaping(toEscape.charAt(0));
    if (isCommentSet) {
      format.setComment(comment);
    } else {
      settings.setCommentProcessingEnabled(false);
    }
    settings.setIgnoreLeadingWhitespaces(ignoreLeading);
    settings.setIgnoreTrailingWhitespaces(ignoreTrailing);
    settings.setReadInputOnSeparateThread(false);
    if (bufferSize != null) settings.setInputBufferSize(Integer.parseInt(bufferSize));
    settings.setMaxColumns(maxColumns);
    settings.setNullValue(nullValue);
    settings.setEmptyValue(emptyValueInRead);
    settings.setMaxCharsPerColumn(maxCharsPerColumn);
    settings.setUnescapedQuoteHandling(unescapedQuoteHandling);
    settings.setLineSeparatorDetectionEnabled(lineSep == null && multiLine);
    if (lineSep != null) settings.setNormalizeLineEndingsWithinQuotes(!multiLine);
    settings.setErrorContentLength(1000);
    return settings;
  }

  /** CSVOptions.getChar: absent gives the default, "" gives NUL, more than one character fails. */
  static char getChar(Map<String, String> p, String name, char dflt) {
    String v = p.get(name);
    if (v == null) return dflt;
    if (v.isEmpty()) return '\u0000';
    if (v.length() == 1) return v.charAt(0);
    throw new IllegalArgumentException(name + " cannot be more than one character");
  }

  /** CSVOptions.getBool: "true"/"false" in any case, anything else fails. */
  static boolean getBool(Map<String, String> p, String name, boolean dflt) {
    String v = p.get(name);
    if (v == null) return dflt;
    if (v.equalsIgnoreCase("true")) return true;
    if (v.equalsIgnoreCase("false")) return false;
    throw new IllegalArgumentException(name + " flag can be true or false");
  }

  static int getInt(Map<String, String> p, String name, int dflt) {
    String v = p.get(name);
    return v == null ? dflt : Integer.parseInt(v);
  }

  /** CSVExprUtils.toDelimiterStr: chunks of `\x` (two characters) or one character, each toChar'd. */
  static String toDelimiterStr(String str) {
    StringBuilder delimiter = new StringBuilder();
    int idx = 0;
    while (idx < str.length()) {
      int readAhead = str.charAt(idx) == '\\' ? 2 : 1;
      String chunk = str.substring(idx, Math.min(str.length(), idx + readAhead));
      delimiter.append(toChar(chunk));
      idx += chunk.length();
    }
    return delimiter.toString();
  }

  /** CSVExprUtils.toChar. */
  static char toChar(String str) {
    if (str.isEmpty()) throw new IllegalArgumentException("INVALID_DELIMITER_VALUE.EMPTY_STRING");
    if (str.equals("\\")) throw new IllegalArgumentException("INVALID_DELIMITER_VALUE.SINGLE_BACKSLASH");
    if (str.length() == 1) return str.charAt(0);
    if (str.charAt(0) == '\\') {
      switch (str.charAt(1)) {
        case 't': return '\t';
        case 'r': return '\r';
        case 'b': return '\b';
        case 'f': return '\f';
        case '"': return '"';
        case '\'': return '\'';
        case '\\': return '\\';
        default:
          throw new IllegalArgumentException("INVALID_DELIMITER_VALUE.UNSUPPORTED_SPECIAL_CHARACTER " + str);
      }
    }
    throw new IllegalArgumentException("INVALID_DELIMITER_VALUE.DELIMITER_LONGER_THAN_EXPECTED " + str);
  }

  static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }

  static String unhex(String hex) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int i = 0; i < hex.length(); i += 2) bytes.write(Integer.parseInt(hex.substring(i, i + 2), 16));
    return bytes.toString(StandardCharsets.UTF_8);
  }

  static void appendJsonString(StringBuilder json, String s) {
    json.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') json.append('\\').append(c);
      else if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) json.append(String.format("\\u%04x", (int) c));
      else json.append(c);
    }
    json.append('"');
  }
}

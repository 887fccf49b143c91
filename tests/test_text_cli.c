/* `pathos text`: train small classifiers, then stream CSV / TSV / JSONL through `text
 * predict` (files and stdin), conversation buffering by dialogue, and bad input (missing
 * column, malformed JSONL, unknown task) -> a clear message and a non-zero exit, with no
 * partial output file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char cmd[8192];

static int run(const char *fmt, const char *a, const char *b)
{
    char inner[6000];
    snprintf(inner, sizeof inner, fmt, a, b);
    snprintf(cmd, sizeof cmd, "cd %s && %s", pth_test_tmpdir(), inner);
    return pth_test_run(cmd);
}

static const char *tmp(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/%s", pth_test_tmpdir(), name);
    return p;
}

static void write_file(const char *name, const char *content)
{
    FILE *fp = fopen(tmp(name), "wb");
    fputs(content, fp);
    fclose(fp);
}

/* Reads a whole small file (static buffer). */
static const char *slurp(const char *name)
{
    static char buf[1 << 20];
    buf[0] = 0;
    FILE *fp = fopen(tmp(name), "rb");
    if (!fp)
        return buf;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_goemotions_cli(const char *bin)
{
    char env[2048];
    snprintf(env, sizeof env, "PATHOS_DATA_DIR=%s", pth_test_shared("data"));
    CHECK(run("%s %s text train --task goemotions --model fasttext --max-train 2000 -o ge.bin 2>train.err", env, bin) ==
          0);
    CHECK(pth_test_file_exists(tmp("ge.bin")));

    /* JSONL file, id copied, one output line per input line (blank lines skipped). */
    write_file("in.jsonl", "{\"text\": \"Thank you so much!\", \"id\": \"a\"}\n\n{\"text\": \"This is awful.\", "
                           "\"id\": 7}\n{\"text\": \"Why would you do that?\", \"id\": \"c\"}\n");
    CHECK(run("%s text predict -m ge.bin --input in.jsonl --id-col id > out.jsonl%s", bin, "") == 0);
    const char *out = slurp("out.jsonl");
    CHECK(count_lines(out) == 3);
    CHECK(strstr(out, "{\"id\":\"a\",\"scores\":{\"admiration\":") == out);
    CHECK(strstr(out, "\"id\":\"7\"") != NULL);
    CHECK(strstr(out, "\"labels\":[\"") != NULL);

    /* CSV with quotes and a chosen text column, read from stdin. */
    write_file("in.csv", "n,comment\n1,\"I love it, really \"\"love\"\" it\"\n2,meh\n");
    CHECK(run("cat in.csv | %s text predict -m ge.bin --format csv --text-col comment --id-col n > out.csv.jsonl%s",
              bin, "") == 0);
    out = slurp("out.csv.jsonl");
    CHECK(count_lines(out) == 2 && strstr(out, "{\"id\":\"1\"") == out);

    /* Headerless TSV (GoEmotions' own layout) with --no-header: text is column 0. */
    CHECK(run("head -n 5 %s | %s text predict -m ge.bin --format tsv --no-header > out.tsv.jsonl",
              pth_test_shared("data/goemotions/dev.tsv"), bin) == 0);
    CHECK(count_lines(slurp("out.tsv.jsonl")) == 5);

    /* Streaming: the first result is written while stdin is still open.  The producer keeps
     * the pipe open until the output file has a line (at most 30 s) and records whether it
     * saw one before closing. */
    CHECK(run("(printf '{\"text\":\"hello there\"}\\n'; i=0; while [ ! -s stream.jsonl ] && [ $i -lt 300 ]; "
              "do sleep 0.1; i=$((i+1)); done; [ -s stream.jsonl ] && touch streamed.ok) | %s text predict -m ge.bin "
              "> stream.jsonl%s",
              bin, "") == 0);
    CHECK(pth_test_file_exists(tmp("streamed.ok")));
    CHECK(count_lines(slurp("stream.jsonl")) == 1);

    /* Bad input: missing column, malformed JSONL (line number), no partial -o file. */
    CHECK(run("printf 'a,b\\n1,2\\n' | %s text predict -m ge.bin -f csv 2> err1.txt%s", bin, "") != 0);
    CHECK(strstr(slurp("err1.txt"), "no column 'text'") != NULL);
    write_file("bad.jsonl", "{\"text\": \"fine\"}\n{\"text\": \"broken\"\n");
    CHECK(run("%s text predict -m ge.bin -i bad.jsonl -o partial.jsonl 2> err2.txt%s", bin, "") != 0);
    CHECK(strstr(slurp("err2.txt"), "bad.jsonl:2:") != NULL);
    CHECK(!pth_test_file_exists(tmp("partial.jsonl")));
    write_file("nofield.jsonl", "{\"body\": \"x\"}\n");
    CHECK(run("%s text predict -m ge.bin -i nofield.jsonl 2> err3.txt%s", bin, "") != 0);
    CHECK(strstr(slurp("err3.txt"), "no string field 'text'") != NULL);
    CHECK(run("%s text predict -m in.csv -i in.jsonl 2> err4.txt%s", bin, "") != 0);
    CHECK(strstr(slurp("err4.txt"), "magic") != NULL);
    CHECK(run("%s text eval --task nosuch 2> err5.txt%s", bin, "") == 2);
    CHECK(run("%s text frobnicate 2> err6.txt%s", bin, "") == 2);
    CHECK(run("%s text predict --help > help.txt%s", bin, "") == 0);
    CHECK(strstr(slurp("help.txt"), "--text-col") != NULL);
}

static void test_meld_cli(const char *bin)
{
    char env[2048];
    snprintf(env, sizeof env, "PATHOS_DATA_DIR=%s", pth_test_shared("data"));
    CHECK(run("%s %s text train --task meld --model fasttext --context 1 --max-train 3000 --transfer-model fasttext -o meld.bin 2>/dev/null", env,
              bin) == 0);
    /* The dev file, dialogue by dialogue with context: one line per utterance. */
    CHECK(run("%s text predict -m meld.bin -i %s --text-col Utterance --speaker-col Speaker --dialogue-col Dialogue_ID "
              "--id-col Sr\\ No. > meld.jsonl",
              bin, pth_test_shared("data/meld/MELD/dev_sent_emo.csv")) == 0);
    const char *out = slurp("meld.jsonl");
    CHECK(count_lines(out) == 1109);
    CHECK(strstr(out, "{\"id\":\"1\",\"scores\":{\"neutral\":") == out);
    /* JSON eval output is one object with the with/without-context scores. */
    CHECK(run("%s %s text eval --task meld --model fasttext --context 1 --max-train 2000 --no-transfer --json > eval.json",
              env, bin) == 0);
    out = slurp("eval.json");
    CHECK(strstr(out, "\"dev_weighted_f1\":") != NULL && strstr(out, "\"dev_weighted_f1_no_context\":") != NULL);
    CHECK(strstr(out, "\"transfer\":false") != NULL);
    /* The saved model above carries its GoEmotions transfer model (trained by default from
     * $PATHOS_DATA_DIR/goemotions; fastText here to keep the test fast): predict needed no
     * GoEmotions data.  Without context the
     * stacked level scores each text alone; a missing GoEmotions folder is a clear error. */
    CHECK(run("%s %s text train --task meld --model fasttext --context 0 --max-train 2000 --transfer-model fasttext -o meld0.bin 2>/dev/null", env,
              bin) == 0);
    write_file("m0in.jsonl", "{\"text\": \"Oh my God!\"}\n{\"text\": \"I hate you.\"}\n");
    CHECK(run("%s text predict -m meld0.bin --input m0in.jsonl > m0.jsonl%s", bin, "") == 0);
    CHECK(count_lines(slurp("m0.jsonl")) == 2);
    CHECK(run("%s %s text train --task meld --context 0 --max-train 500 --goemotions-data /nonexistent -o x.bin "
              "2>/dev/null",
              env, bin) != 0);
}

static void test_newsemp_cli(const char *bin)
{
    char env[2048];
    snprintf(env, sizeof env, "PATHOS_DATA_DIR=%s", pth_test_shared("data"));
    CHECK(run("%s %s text eval --task newsemp --max-train 200 --json > newsemp.json", env, bin) == 0);
    const char *out = slurp("newsemp.json");
    CHECK(strstr(out, "\"empathy\":{\"pearson\":") != NULL && strstr(out, "\"interval_coverage\":") != NULL);
    CHECK(strstr(out, "\"grouped_by_writer\":true") != NULL);
    CHECK(run("%s %s text eval --task newsemp --max-train 200 --plain-folds --no-blend --json > newsemp_plain.json", env,
              bin) == 0);
    out = slurp("newsemp_plain.json");
    CHECK(strstr(out, "\"grouped_by_writer\":false") != NULL && strstr(out, "\"distress\":{\"pearson\":") != NULL);
    /* The saved regressor (tests/test_textreg.c covers it in depth): bad options exit 2, a
     * small model trains and predicts {"empathy", "empathy_interval", ...}. */
    CHECK(run("%s %s text train --task newsemp --alphas 0,x -o n.bin 2>/dev/null", env, bin) == 2);
    CHECK(!pth_test_file_exists(tmp("n.bin")));
    CHECK(run("%s %s text train --task newsemp --max-train 200 --alphas 2 --inner-folds 3 -o n.bin 2>/dev/null", env,
              bin) == 0);
    write_file("ne.jsonl", "{\"text\":\"So sad to read about those families.\"}\n");
    CHECK(run("%s text predict -m n.bin -i %s > ne_out.jsonl", bin, tmp("ne.jsonl")) == 0);
    CHECK(strstr(slurp("ne_out.jsonl"), "{\"empathy\":") == slurp("ne_out.jsonl"));
}

int main(void)
{
    const char *bin = pth_test_bin();
    test_goemotions_cli(bin);
    test_meld_cli(bin);
    test_newsemp_cli(bin);
    return pth_test_finish();
}

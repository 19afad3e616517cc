/* A simulated 二代证 reader SDK with the common vendor shape (华视 termb-compatible):
 *   int InitComm(int port); int Authenticate(void); int Read_Content(int active); int CloseComm(void);
 * Read_Content writes wz.txt (UCS-2LE fixed-width fields) and zp.bmp into the current directory,
 * as the vendor libraries do. The "card on the reader" is set through the environment:
 *   IDCARD_SIM_PORT   the port the reader answers on (default 1001)
 *   IDCARD_SIM_NAME   the holder's name (UTF-8); unset: no card on the reader
 *   IDCARD_SIM_ID     the ID number
 *   IDCARD_SIM_PHOTO  a BMP file copied as the decoded chip photo (optional)
 *   IDCARD_SIM_FAIL   "read": Read_Content fails (card lifted mid-read)
 * Built by tests/test_idcard.py with gcc into a temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int opened = 0;

int InitComm(int port) {
    const char *want = getenv("IDCARD_SIM_PORT");
    if (port != (want ? atoi(want) : 1001)) return 0;
    opened = 1;
    return 1;
}

int CloseComm(void) { opened = 0; return 1; }

int Authenticate(void) {
    if (!opened) return 0;
    return getenv("IDCARD_SIM_NAME") != NULL ? 1 : 0;
}

/* UTF-8 (BMP characters only) -> UCS-2LE, padded with spaces to `width` characters */
static void put_field(FILE *f, const char *utf8, int width) {
    int n = 0;
    const unsigned char *p = (const unsigned char *)(utf8 ? utf8 : "");
    while (*p && n < width) {
        unsigned int c;
        if (*p < 0x80) { c = *p++; }
        else if ((*p & 0xE0) == 0xC0) { c = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F); p += 2; }
        else { c = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); p += 3; }
        fputc(c & 0xFF, f); fputc((c >> 8) & 0xFF, f); n++;
    }
    for (; n < width; n++) { fputc(' ', f); fputc(0, f); }
}

int Read_Content(int active) {
    const char *fail = getenv("IDCARD_SIM_FAIL");
    if (!opened || active != 1 || getenv("IDCARD_SIM_NAME") == NULL) return 0;
    if (fail && strcmp(fail, "read") == 0) return 0;
    FILE *f = fopen("wz.txt", "wb");
    if (!f) return 0;
    const char *id = getenv("IDCARD_SIM_ID");
    char birth[9] = "19500101";
    if (id && strlen(id) >= 14) { memcpy(birth, id + 6, 8); birth[8] = 0; }
    put_field(f, getenv("IDCARD_SIM_NAME"), 15);
    put_field(f, "1", 1);
    put_field(f, "01", 2);
    put_field(f, birth, 8);
    put_field(f, "北京市东城区东村1号", 35);
    put_field(f, id, 18);
    put_field(f, "北京市公安局东城分局", 15);
    put_field(f, "20200101", 8);
    put_field(f, "长期", 8);
    for (int i = 0; i < 18; i++) { fputc(' ', f); fputc(0, f); }
    fclose(f);
    const char *photo = getenv("IDCARD_SIM_PHOTO");
    if (photo) {
        FILE *in = fopen(photo, "rb"), *out = fopen("zp.bmp", "wb");
        if (!in || !out) { if (in) fclose(in); if (out) fclose(out); return 0; }
        char buf[4096]; size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, out);
        fclose(in); fclose(out);
    }
    return 1;
}

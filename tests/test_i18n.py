"""Explanations in other languages: the catalogs, choosing a language, and English kept intact.

The Simplified Chinese catalog must translate every msgid and keep every placeholder and code
name; `curlx explain --lang zh`, the locale variables, `e.explain(lang="zh")` and the crawl
summary speak it; an unknown language falls back to English; `str(e)` stays English unless
`curlx.set_language()` asks otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.lab import Lab
from support.raw import LOOPBACK, closed_port, ok_response, respond

import curlx
from curlx import _explain, _i18n
from curlx._cli import main
from curlx._codes import Category, CurlCode, ProxyCode, RetryKind, all_codes
from curlx._info import TransferInfo
from curlx._translate import REFINED_CLASSES, error_from_code

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "i18n.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE_VARIABLES = ("CURLX_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
TIMEOUT = 10


@pytest.fixture
def zh() -> curlx.Language:
    return curlx.language("zh")


@pytest.fixture(autouse=True)
def _english_and_no_locale(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts in English with no language in the environment, and ends in English."""
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    curlx.set_language(None)
    yield
    curlx.set_language(None)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curlx_i18n_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cli(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m curlx ARGV` with only `env`'s language variables set."""
    base = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "curlx", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**base, **env},
    )


# --- the catalog -------------------------------------------------------------------------------


def test_the_catalogs_are_complete_current_and_compiled() -> None:
    """What CI runs: no stale, missing, fuzzy or untranslated entry, no broken placeholder."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 catalogs complete" in done.stdout


def _english_texts() -> list[str]:
    texts = [t for code in all_codes() for t in (code.summary, code.explanation)]
    texts += [kind.advice for kind in RetryKind]
    texts += [cls.situation for cls in _error_classes() if cls.situation]
    texts += [cls.hint_text for cls in (curlx.InvalidOperation, curlx.InvalidRequest)]
    texts += [curlx.InvalidSetting.hint_text, *_explain.MESSAGES]
    for refined in REFINED_CLASSES.values():
        texts += [(cls.__doc__ or "").strip().splitlines()[0] for cls in refined]
    return texts


def _error_classes() -> list[type[curlx.CurlError]]:
    found = [getattr(curlx, name) for name in curlx.__all__]
    return [cls for cls in found if isinstance(cls, type) and issubclass(cls, curlx.CurlError)]


def test_every_text_of_the_table_and_the_classes_has_a_chinese_translation(
    zh: curlx.Language,
) -> None:
    texts = _english_texts()
    assert len(texts) > 400
    for text in texts:
        translated = zh.gettext(text)
        assert translated != text and CJK.search(translated), text
    for category in Category:
        assert zh.category(category) != category.value, category
    for kind in RetryKind:
        assert CJK.search(zh.retry(kind)), kind


_FIELD = re.compile(r"\{[^{}]*\}")
_NAME = re.compile(r"\bCURL[A-Z0-9]*_[A-Z0-9_]+\b")
_CALL = re.compile(r"\b[A-Za-z_][\w.]*\(\)")
_NUMBER = re.compile(r"\d+(?:\.\d+)*")


def _compiled_entries() -> dict[str, str]:
    """The Chinese .mo as the runtime reads it: {msgid: msgstr} (contexts dropped)."""
    catalog = curlx.language("zh")._catalog
    assert catalog is not None
    entries: dict[Any, str] = catalog._catalog  # type: ignore[attr-defined]
    return {k.split("\x04")[-1]: v for k, v in entries.items() if isinstance(k, str) and k}


def test_every_translation_keeps_placeholders_code_names_and_numbers() -> None:
    entries = _compiled_entries()
    assert len(entries) > 450
    for msgid, text in entries.items():
        assert sorted(_FIELD.findall(msgid)) == sorted(_FIELD.findall(text)), msgid
        assert set(_NAME.findall(msgid)) == set(_NAME.findall(text)), msgid
        assert set(_CALL.findall(msgid)) <= set(_CALL.findall(text)), msgid
        assert set(_NUMBER.findall(msgid)) <= set(_NUMBER.findall(text)), msgid
        fields = {name: "x" for name in re.findall(r"\{(\w+)\}", msgid)}
        if fields:
            text.format(**fields)  # no stray brace: the renderers call format()


# Terms the catalog's glossary fixes: an English term in the msgid, its one Chinese rendering.
_GLOSSARY = {
    r"\bprox(y|ies)\b": "代理",
    r"\bcertificate": "证书",
    r"\bidempotent": "幂等",
    r"\bhost name": "主机名",
    r"\bcallback": "回调",
    r"\bredirect": "重定向",
    r"\bhandshake": "握手",
    r"\bcredentials": "凭据",
    r"\bsocket": "套接字",
    r"\bfile.descriptor": "文件描述符",
    r"\bpercent-encod": "百分号编码",
    r"\bcipher": "加密套件",
    r"\brevo": "吊销",
    r"\bmiddlebox": "中间设备",
    r"\bretired": "停用",
}
_NOT_GLOSSARY = ["服务端", "凭证", "鉴权", "身份验证", "颁发", "套接口", "您"]


def test_the_chinese_catalog_uses_the_glossary_terms_consistently() -> None:
    for msgid, text in _compiled_entries().items():
        for english, chinese in _GLOSSARY.items():
            if re.search(english, msgid, flags=re.IGNORECASE):
                assert chinese in text, (english, msgid, text)
        for other in _NOT_GLOSSARY:
            assert other not in text, (other, text)


def test_the_check_catches_what_breaks_a_catalog() -> None:
    pytest.importorskip("babel")
    from babel.messages.catalog import Catalog

    script = _script()
    template = Catalog()
    for msgid in [
        "Check {name} and CURLOPT_URL.",
        "Call pycurl.version_info() with `verify=` set.",
        "Wait 30 s.",
        "Fine.",
        "Fuzzy.",
        "Missing.",
    ]:
        template.add(msgid)
    catalog = Catalog(locale="zh_CN")
    catalog.add("Check {name} and CURLOPT_URL.", "检查 {nom} 和 CURLOPT_URI。")
    catalog.add(
        "Call pycurl.version_info() with `verify=` set.", "调用 version_info，设置 verify。"
    )
    catalog.add("Wait 30 s.", "等待 3 秒。")
    catalog.add("Fine.", "")
    catalog.add("Fuzzy.", "模糊。", flags=["fuzzy"])
    catalog.add("Gone.", "已删除。")
    found = "\n".join(script.problems(catalog, template))
    assert "missing: 'Missing.'" in found
    assert "obsolete: 'Gone.'" in found
    assert "untranslated: 'Fine.'" in found
    assert "fuzzy: 'Fuzzy.'" in found
    assert "['{name}', '{nom}']" in found
    assert "'CURLOPT_URI', 'CURLOPT_URL'" in found
    assert "'pycurl.version_info()'" in found and "'`verify=`'" in found
    assert "['30']" in found
    complete = Catalog(locale="zh_CN")
    for message in template:
        if message.id:
            complete.add(message.id, "译文：" + str(message.id))
    assert script.problems(complete, template) == []


def test_the_compiled_catalog_ships_inside_the_package() -> None:
    mo = _i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "curlx.mo"
    assert mo.is_file() and mo.resolve().is_relative_to(Path(curlx.__file__).resolve().parent)
    assert _i18n.available() == {"zh_cn": "zh_CN"}


# --- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("zh", "zh_CN"),
        ("ZH", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_CN.UTF-8", "zh_CN"),
        ("zh_CN.utf8@pinyin", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh_SG", "zh_CN"),
        ("zh_TW", "en"),  # Traditional Chinese is not served the Simplified catalog
        ("zh-Hant", "en"),
        ("en", "en"),
        ("en_GB.UTF-8", "en"),
        ("C", "en"),
        ("POSIX", "en"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_language_tags_and_locale_names_find_their_catalog(tag: str, name: str) -> None:
    assert curlx.language(tag).name == name
    assert (_i18n.find(tag) or "en") == name


def test_the_environment_order_is_curlx_lang_then_language_lc_all_lc_messages_lang() -> None:
    env = {"LANG": "zh_CN.UTF-8"}
    assert _i18n.from_environment(env) == "zh_CN"
    assert _i18n.from_environment({**env, "LC_MESSAGES": "C"}) == "en"
    assert _i18n.from_environment({**env, "LC_ALL": "de_DE.UTF-8"}) == "en"
    assert _i18n.from_environment({"LC_ALL": "C", "LANGUAGE": "fr:zh_CN"}) == "zh_CN"
    assert _i18n.from_environment({**env, "CURLX_LANG": "en"}) == "en"
    assert _i18n.from_environment({"LANG": "C", "CURLX_LANG": "zh"}) == "zh_CN"
    assert _i18n.from_environment({}) == "en"


def test_catalogs_are_read_on_first_use_and_never_by_english_errors() -> None:
    code = (
        "import sys, curlx\n"
        "from curlx._translate import error_from_code\n"
        "e = error_from_code(60, 'bad cert', url='https://h/', method='GET')\n"
        "text = str(e) + e.hint + e.explain()\n"
        "assert 'gettext' not in sys.modules, 'a catalog was loaded for English'\n"
        "assert '证书' in e.explain(lang='zh') and 'gettext' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_english_path_of_str_makes_no_catalog_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, *args: object) -> str:
        raise AssertionError("catalog call on the English path")

    error = error_from_code(28, "Operation timed out", url="https://h/", method="GET")
    expected = str(error)
    monkeypatch.setattr(_i18n.Language, "gettext", refuse)
    monkeypatch.setattr(_i18n.Language, "pgettext", refuse)
    assert str(error) == expected and error.hint in expected


def _errors() -> Iterator[curlx.CurlError]:
    info = TransferInfo(
        proxy_error=ProxyCode.REPLY_HOST_UNREACHABLE,
        primary_ip=LOOPBACK,
        retry_after=2.5,
        response_code=503,
        request_size=40,
    )
    for code in CurlCode:
        yield error_from_code(int(code), f"message {int(code)}", url="https://h/", method="PUT")
        yield error_from_code(int(code), "message", url="https://h/", method="GET", info=info)
    yield error_from_code(4242, "from a newer libcurl")
    yield curlx.InvalidRequest("bad header")
    yield curlx.InvalidOperation("closed")


def test_the_catalog_path_renders_english_exactly_as_the_fast_path() -> None:
    """The English fast path of `hint_line` and its catalog path are the same text."""
    for error in _errors():
        assert _explain._hint_line_in(error, _i18n.ENGLISH) == error.hint, repr(error)


# --- the command line -------------------------------------------------------------------------


def test_explain_60_with_lang_zh(zh: curlx.Language, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "60", "--lang", "zh"]) == 0
    captured = capsys.readouterr()
    code = CurlCode.PEER_FAILED_VERIFICATION
    assert captured.err == ""
    assert captured.out.startswith(
        "CURLE_PEER_FAILED_VERIFICATION（curl 错误 60，自 libcurl 7.17.1 起）\n"
    )
    assert f"  {zh.summary(code)}\n" in captured.out
    assert "处理办法： " in captured.out and zh.explanation(code) in captured.out
    assert "不可重试（never）。" + zh.advice(RetryKind.NEVER) in captured.out
    assert "类别：     证书（certificate）" in captured.out
    assert "curlx.PeerFailedVerification" in captured.out
    assert "CURLE_SSL_CACERT、CURLE_SSL_PEER_CERTIFICATE" in captured.out
    assert code.summary not in captured.out and code.explanation not in captured.out


def test_lang_zh_cn_utf8_in_the_environment_explains_28_in_chinese(zh: curlx.Language) -> None:
    done = _cli(["explain", "28"], {"LANG": "zh_CN.UTF-8"})
    assert (done.returncode, done.stderr) == (0, "")
    code = CurlCode.OPERATION_TIMEDOUT
    assert done.stdout.startswith("CURLE_OPERATION_TIMEDOUT（curl 错误 28，")
    assert zh.summary(code) in done.stdout and zh.explanation(code) in done.stdout
    assert "根据句柄观察到的情况细分为以下类（每个也都是 curlx.OperationTimedout）：" in done.stdout
    assert "  curlx.ConnectTimeout（超时；可安全重试）" in done.stdout
    assert "  curlx.ReadTimeout（超时；仅幂等请求可重试）" in done.stdout
    assert zh.gettext(curlx.ReadTimeout.__doc__.splitlines()[0]) in done.stdout  # type: ignore[union-attr]


def test_lang_option_beats_curlx_lang_which_beats_the_locale() -> None:
    english = _cli(["explain", "7"], {"LANG": "zh_CN.UTF-8", "CURLX_LANG": "en"})
    assert english.stdout.startswith("CURLE_COULDNT_CONNECT (curl error 7, since libcurl 7.1)")
    chinese = _cli(["explain", "7"], {"LANG": "C", "CURLX_LANG": "zh"})
    assert chinese.stdout.startswith("CURLE_COULDNT_CONNECT（curl 错误 7")
    again = _cli(["explain", "7", "--lang", "en"], {"CURLX_LANG": "zh"})
    assert again.stdout == english.stdout
    assert english.stderr == chinese.stderr == again.stderr == ""


def test_an_unknown_language_falls_back_to_english_and_says_so_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "60"]) == 0
    english = capsys.readouterr()
    assert main(["explain", "60", "--lang", "xx"]) == 0
    fallback = capsys.readouterr()
    assert fallback.out == english.out
    assert fallback.err == "curlx: no 'xx' translation, showing English (curlx speaks en, zh_CN)\n"
    done = _cli(["explain", "60"], {"CURLX_LANG": "klingon"})
    assert done.stdout == english.out and done.stderr.count("\n") == 1
    assert "'klingon'" in done.stderr


def test_an_unsupported_locale_is_english_without_a_note() -> None:
    done = _cli(["explain", "60"], {"LANG": "fr_FR.UTF-8"})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("CURLE_PEER_FAILED_VERIFICATION (curl error 60")


def test_explain_list_in_chinese(zh: curlx.Language, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--list", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    for code in all_codes():
        assert f"{code.libcurl_name:<40}" in out and zh.summary(code) in out


def test_get_explains_a_refused_port_in_chinese(
    zh: curlx.Language, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://{LOOPBACK}:{closed_port()}/"
    assert main(["get", url, "--timeout", str(TIMEOUT), "--lang", "zh"]) == 7
    headline, hint = capsys.readouterr().err.rstrip("\n").split("\n")
    assert headline.startswith(f"curlx: COULDNT_CONNECT (curl error 7) for GET {url}: ")
    # curlx get is a curlx client: its hint names the client's keywords (proxy=)
    assert hint.startswith("提示：" + zh.explanation(CurlCode.COULDNT_CONNECT, client=True))
    assert "proxy=" in hint
    assert hint.endswith("详见：curlx explain 7")


def test_the_crawl_summary_headings_are_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = tmp_path / "urls.txt"
    refused = f"http://{LOOPBACK}:{closed_port()}/x"
    urls.write_text(refused + "\n", encoding="utf-8")
    assert main(["crawl", str(urls), "--timeout", str(TIMEOUT), "--lang", "zh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 个 URL：0 个成功，0 个 HTTP 错误，1 个传输失败"
    heading = next(line for line in lines if line.startswith("失败（按类别）"))
    row = lines[lines.index(heading) + 1]
    assert row.startswith("connect ") and row.endswith(refused)
    # Wide characters take two columns: the headings line up with the numbers below them.
    assert _i18n.width(heading.split("示例")[0]) == len(row.split(refused)[0])
    assert any(line.split() == ["主机", "总数", "失败"] for line in lines)


def test_report_render_in_chinese_keeps_english_by_default() -> None:
    report = curlx.Report()
    english = report.render()
    assert report.render(lang="zh") == "0 个 URL：0 个成功，0 个 HTTP 错误，0 个传输失败"
    assert english == "0 URLs: 0 ok, 0 HTTP errors, 0 failed transfers"


# --- the library -------------------------------------------------------------------------------


def test_explain_in_chinese_for_a_real_tls_failure(lab: Lab, zh: curlx.Language) -> None:
    server = lab.https(respond(ok_response()))
    url = server.url(scheme="https")
    with pytest.raises(curlx.PeerFailedVerification) as caught:
        curlx.get(url, timeout=TIMEOUT)  # the test CA is not in certifi's bundle
    error = caught.value
    text = error.explain(lang="zh")
    first, blank, *rest = text.splitlines()
    assert first == error.explain().splitlines()[0]  # the headline stays English
    assert first.startswith(f"PEER_FAILED_VERIFICATION (curl error 60) for GET {url}")
    assert blank == ""
    assert rest[0] == "发生了什么： " + zh.summary(CurlCode.PEER_FAILED_VERIFICATION)
    # curlx.get is a curlx client: the advice names verify=, in Chinese too
    assert "处理办法：   " + zh.explanation(CurlCode.PEER_FAILED_VERIFICATION, client=True) in rest
    assert "类别：       证书（certificate），用 curlx.PeerFailedVerification 捕获" in rest
    assert any(line.startswith("传输：       对端 127.0.0.1 端口 ") for line in rest)
    assert rest[-1] == "详见：       curlx explain 60"
    assert "What to do" not in text and error.message in text


def test_str_stays_english_under_a_chinese_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    error = error_from_code(6, "Could not resolve host: nowhere", url="http://nowhere/")
    english = str(error)
    for name in LOCALE_VARIABLES:
        monkeypatch.setenv(name, "zh_CN.UTF-8")
    assert str(error) == english and not CJK.search(english)
    assert error.explain() == error.explain(lang="en") and not CJK.search(error.explain())
    assert curlx.Report().render().startswith("0 URLs")


def test_set_language_switches_str_and_back(zh: curlx.Language) -> None:
    error = error_from_code(6, "Could not resolve host: nowhere", url="http://nowhere/")
    english = str(error)
    assert curlx.set_language("zh").name == "zh_CN"
    headline, hint = str(error).split("\n")
    assert headline == english.split("\n")[0]
    assert hint.startswith("提示：" + zh.explanation(CurlCode.COULDNT_RESOLVE_HOST))
    assert hint.endswith(zh.advice(RetryKind.SAFE) + "详见：curlx explain 6")
    assert error.explain().startswith(headline + "\n\n发生了什么：")
    assert not CJK.search(error.explain(lang="en"))
    curlx.set_language(None)
    assert str(error) == english and not CJK.search(error.explain())
    assert curlx.set_language("fr").name == "en" and str(error) == english
    curlx.set_language("zh")
    assert curlx.set_language("en").name == "en" and str(error) == english


def test_the_table_lookups_take_a_language(zh: curlx.Language) -> None:
    code = curlx.code_for("SSL_CACERT")
    assert zh.summary(code) == "无法验证服务器的证书（或 SSH 主机密钥）。"
    assert curlx.language("en").summary(code) == code.summary
    assert curlx.language().summary(code) == code.summary
    assert zh.category(Category.CERTIFICATE) == "证书"
    assert zh.retry(RetryKind.IDEMPOTENT) == "仅幂等请求可重试"
    assert zh.advice(RetryKind.SAFE) == "可以安全重试：请求从未到达服务器。"
    assert zh.explanation(ProxyCode.USER_REJECTED).startswith("检查 CURLOPT_PROXYUSERPWD")
    assert repr(zh) == "Language('zh_CN')" and not zh.english and curlx.language("xx").english


def test_a_proxy_detail_and_a_retry_after_are_explained_in_chinese(zh: curlx.Language) -> None:
    info = TransferInfo(proxy_error=ProxyCode.REPLY_HOST_UNREACHABLE, retry_after=2.5)
    error = error_from_code(97, "SOCKS5 host unreachable", url="https://h/", info=info)
    hint = _explain.hint_line(error, "zh")
    detail = zh.explanation(ProxyCode.REPLY_HOST_UNREACHABLE)
    assert hint.startswith(f"提示：CURLPX_REPLY_HOST_UNREACHABLE：{detail}")
    assert error.retry.after == 2.5 and "服务器要求等待 2.5 秒（Retry-After）。" in hint


def test_an_empty_text_stays_empty_in_every_language(zh: curlx.Language) -> None:
    assert zh.gettext("") == "" and curlx.language().gettext("") == ""

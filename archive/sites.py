"""Site profiles (`sites/*.toml`): what to crawl, how politely, how to read it, when."""

from __future__ import annotations

import os
import re
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from .errors import SiteProfileError

KEYS = {"name", "title", "derived", "start_urls", "hosts", "prefixes", "deny", "max_depth", "schedule",
        "settings", "extract", "ignore", "allow_private", "notify", "render", "contact", "tsa", "reports",
        "revisit", "max_interval_days", "revisit_budget"}
EXTRACT_KEYS = {"title", "body"}


def search_path() -> list[Path]:
    """Where profiles are looked up: $GOVARCHIVE_SITES, ./sites, then the shipped ones (the package's
    archive/profiles when installed from a wheel, the checkout's sites/ otherwise)."""
    paths = [Path(p) for p in os.environ.get("GOVARCHIVE_SITES", "").split(os.pathsep) if p]
    here = Path(__file__).resolve().parent
    paths += [Path("sites"), here / "profiles", here.parent / "sites"]
    seen, out = set(), []
    for p in paths:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def profile_files() -> list[Path]:
    """Every profile file on the search path (a name found first wins)."""
    found: dict[str, Path] = {}
    for d in search_path():
        for f in sorted(d.glob("*.toml")) if d.is_dir() else []:
            found.setdefault(f.stem, f)
    return list(found.values())


def load_profile(name_or_path: str) -> dict:
    """Load and validate a profile by name (sites/NAME.toml) or path."""
    path = Path(name_or_path)
    if not (path.suffix == ".toml" and path.exists()):
        path = next((f for f in profile_files() if f.stem == name_or_path), None)
        if path is None:
            known = ", ".join(f.stem for f in profile_files()) or "none"
            raise SiteProfileError(f"no site profile {name_or_path!r} (known: {known})")
    try:
        profile = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SiteProfileError(f"{path}: {exc}") from exc
    errors = validate(profile)
    if errors:
        raise SiteProfileError(f"{path}: {'; '.join(errors)}")
    profile.setdefault("hosts", sorted({urlsplit(u).netloc for u in profile["start_urls"]}))
    profile["path"] = str(path.resolve())
    return profile


def find_profile(name: str | None) -> dict | None:
    """The profile of a site by name when one is on the search path and loads, else None."""
    if not name or not any(f.stem == name for f in profile_files()):
        return None
    try:
        return load_profile(name)
    except SiteProfileError:
        return None


def validate(profile: dict) -> list[str]:
    """Return what is wrong with a profile (empty when it is valid)."""
    errors = []
    unknown = set(profile) - KEYS - {"path"}
    if unknown:
        errors.append(f"unknown keys: {', '.join(sorted(unknown))}")
    if not isinstance(profile.get("name"), str) or not re.fullmatch(r"[\w.-]+", profile.get("name") or ""):
        errors.append("name must be a word (letters, digits, . _ -)")
    urls = profile.get("start_urls")
    if not isinstance(urls, list) or not urls:
        errors.append("start_urls must be a non-empty list")
    else:
        for u in urls:
            if not isinstance(u, str) or urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).netloc:
                errors.append(f"not an http(s) URL: {u!r}")
    hosts = profile.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        errors.append("hosts must be a list of host names")
    elif hosts and isinstance(urls, list):
        outside = [u for u in urls if isinstance(u, str) and urlsplit(u).netloc not in hosts]
        if outside:
            errors.append(f"start URLs outside hosts: {', '.join(outside)}")
    for key in ("deny", "ignore"):
        for pattern in profile.get(key, []):
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                errors.append(f"{key}: bad pattern {pattern!r}: {exc}")
    if "max_depth" in profile and not (isinstance(profile["max_depth"], int) and profile["max_depth"] >= 0):
        errors.append("max_depth must be a whole number")
    if "schedule" in profile:
        from croniter import croniter

        if not (isinstance(profile["schedule"], str) and croniter.is_valid(profile["schedule"])):
            errors.append(f"schedule is not a cron expression: {profile['schedule']!r}")
    if profile.get("render", "auto") not in ("auto", "browser", "never"):
        errors.append("render must be auto, browser or never")
    if not isinstance(profile.get("settings", {}), dict):
        errors.append("settings must be a table")
    if profile.get("revisit", "adaptive") not in ("adaptive", "full"):
        errors.append("revisit must be adaptive or full")
    for key in ("max_interval_days", "revisit_budget"):
        if key in profile and not (isinstance(profile[key], int | float) and not isinstance(profile[key], bool)
                                   and profile[key] >= (1 if key == "max_interval_days" else 0)):
            errors.append(f"{key} must be a number" + (" of days ≥ 1" if key == "max_interval_days" else " ≥ 0"))
    reports = profile.get("reports", {})
    if not isinstance(reports, dict) or set(reports) - {"ogi", "rule_of_law"} or not all(
            isinstance(v, list) and all(isinstance(o, str) and o for o in v) for v in reports.values()):
        errors.append("reports must be a table {ogi = [organs…], rule_of_law = [organs…]}")
    extract = profile.get("extract", {})
    if not isinstance(extract, dict) or set(extract) - EXTRACT_KEYS:
        errors.append(f"extract takes only {', '.join(sorted(EXTRACT_KEYS))} (CSS selectors)")
    return errors


def overrides(profile: dict) -> dict:
    """What the pipelines take from a profile: selectors and ignore rules."""
    out = dict(profile.get("extract") or {})
    if profile.get("ignore"):
        out["ignore"] = list(profile["ignore"])
    return out


def check(profile: dict, timeout: float = 10.0) -> list[tuple[str, str]]:
    """Fetch each start URL once (HEAD, then GET); return (url, outcome) — for use online."""
    out = []
    for url in profile["start_urls"]:
        for method in ("HEAD", "GET"):
            req = urllib.request.Request(url, method=method, headers={"User-Agent": "govarchive-check/0.1"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    out.append((url, f"{resp.status} {resp.reason}"))
                    break
            except urllib.error.HTTPError as exc:
                if method == "GET" or exc.code not in (405, 501):
                    out.append((url, f"{exc.code} {exc.reason}"))
                    break
            except (urllib.error.URLError, OSError) as exc:
                out.append((url, f"no answer: {getattr(exc, 'reason', exc)}"))
                break
    return out


def report(check_online: bool = False) -> list[dict]:
    """Every profile on the search path, validated (and, online, its start URLs fetched once)."""
    rows = []
    for path in profile_files():
        try:
            p, errors = load_profile(str(path)), []
        except SiteProfileError as exc:
            p, errors = {"name": path.stem, "path": str(path), "start_urls": []}, [str(exc)]
            try:
                p.update(tomllib.loads(path.read_text("utf-8")))
            except (OSError, tomllib.TOMLDecodeError):
                pass
        row = {"name": p.get("name"), "path": str(path), "valid": not errors, "errors": errors,
               "schedule": p.get("schedule"), "start_urls": p.get("start_urls", []),
               "derived": (p.get("derived") or "").strip()}
        if check_online and not errors:
            row["check"] = [{"url": u, "outcome": o} for u, o in check(p)]
        rows.append(row)
    return rows

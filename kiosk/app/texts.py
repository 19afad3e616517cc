"""Every spoken sentence of the kiosk, by code (no Qt here).

The voice files in assets/voice/zh_CN/<code>.wav are generated from this table by
packaging/make_voice.py; a service point may replace any file with its own recording
(e.g. in the local dialect) under the same name. Screens show the same words.
"""
from __future__ import annotations

from kiosk.liveness.events import ACTION_PROMPTS
from kiosk.messages import ACTION_NAMES, GUIDANCE, REASONS, reason_message

SCREENS = {
    "screen_home": "您好！请选择要办理的事项：本人认证、代他人认证，或者查询认证记录。",
    "screen_identity_self": "请在数字键盘上输入您的十八位身份证号码，输完后按“下一步”。",
    "screen_identity_proxy": "请输入被认证人的十八位身份证号码，输完后按“下一步”。",
    "screen_identity_query": "请输入要查询的十八位身份证号码，输完后按“查询”。",
    "screen_confirm_self": "请核对屏幕上的姓名。是您本人，请按“是我本人”。",
    "screen_confirm_proxy": "请核对被认证人的姓名。没有错，请按“是，继续”。",
    "screen_helper": "请选择您和被认证人的关系。",
    "screen_helper_id": "如果愿意，可以输入您自己的身份证号码，也可以直接按“跳过”。",
    "screen_category": "请选择要认证的待遇类别。",
    "screen_consent": ("刷脸认证只在这台机器上核对，照片不保存，也不上传。"
                       "如果不想刷脸，可以请工作人员帮您办理线下辅助认证。同意请按“同意，开始刷脸”。"),
    "screen_help": ("本机用于养老金等社会保险待遇领取资格认证。按提示输入身份证号码，"
                    "然后看着屏幕，跟着语音眨眼、转头或者张嘴就可以了。有困难请找村里的协理员。"),
    "screen_proxy_face": "请让被认证人本人正对屏幕，由他本人做动作。",
    "state_waiting_face": "请正对屏幕，把脸放进框内",
    "state_guiding": "请保持不动",
    "state_matching": "正在核对，请稍候",
    "progress_ok": "很好",
    "camera_starting": "正在打开摄像头，请稍候",
}

STATUS = {
    "status_certified": "本认证周期已经认证过了，不用再认证。",
    "status_data_comparison": "已通过大数据比对完成认证，不用操作。",
    "status_due": "本认证周期还没有认证，请按期完成认证。",
    "status_not_yet_open": "本年度认证还没有开始，到时再来认证就可以。",
    "status_overdue": "已超过认证期限，待遇暂停发放。现在认证，就会恢复发放，并从停发的月份起补发。",
    "status_deceased": "系统显示该人员已身故，无需认证。如信息有误，请到乡镇社保所核实。",
}

ERRORS = {
    "error_bad_id_number": "身份证号码不对，请逐位核对后重新输入。",
    "error_unknown_resident": "本机名册里没有这个身份证号码。请核对号码，或者请工作人员帮忙。",
    "error_deceased": STATUS["status_deceased"],
    "error_not_required": "本认证周期已经认证过了，不用再认证。",
    "error_attempts_exceeded": REASONS["attempts_exceeded"],
    "error_no_template": REASONS["no_template"],
    "error_camera": "摄像头没有打开。请工作人员检查摄像头，或者办理线下辅助认证。",
}


def all_texts() -> dict[str, str]:
    """code -> sentence for every voice file."""
    out = dict(SCREENS)
    for action, text in ACTION_PROMPTS.items():
        out[f"prompt_{action}"] = text
        out[f"prompt_{action}_again"] = "请再" + text.removeprefix("请")
    for code, text in GUIDANCE.items():
        out[f"guidance_{code}"] = text
    for reason in REASONS:
        if reason == "timeout":
            out["result_timeout"] = reason_message("timeout")
            for action in ACTION_NAMES:
                out[f"result_timeout_{action}"] = reason_message("timeout", action)
        else:
            out[f"result_{reason}"] = reason_message(reason)
    out.update(STATUS)
    out.update(ERRORS)
    return out


def voice_code_for_event(kind: str, code: str, data: dict | None = None) -> str | None:
    """Which voice file speaks a session event (None: stay quiet)."""
    data = data or {}
    if kind == "prompt":
        return f"prompt_{code}_again" if data.get("again") else f"prompt_{code}"
    if kind == "guidance":
        return None if code == "ok" else f"guidance_{code}"
    if kind == "state":
        return {"waiting_face": "state_waiting_face", "matching": "state_matching",
                "settling": "state_guiding"}  # 请保持不动.get(code)
    if kind == "progress":
        return "progress_ok"
    return None


def voice_code_for_result(reason: str, action: str | None = None) -> str:
    if reason == "timeout":
        return f"result_timeout_{action}" if action in ACTION_NAMES else "result_timeout"
    return f"result_{reason}" if reason in REASONS else "result_no_face"

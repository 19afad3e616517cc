"""Every verdict reason code with the plain Chinese the resident hears and reads.

Messages say what happened and what to do next; they never show a score.
"""
from __future__ import annotations

from kiosk.liveness.events import ACTION_PROMPTS

ACTION_NAMES = {"blink": "眨眼", "turn_left": "向左转头", "turn_right": "向右转头", "open_mouth": "张嘴", "nod": "点头"}

STAFF = "如多次不成功，可请工作人员协助办理线下辅助认证。"

REASONS = {
    "ok": "恭喜您认证成功！",
    "timeout": "没有看到您完成“{action}”动作。请听清提示，慢慢做动作，再试一次。" + STAFF,
    "multiple_faces": "画面中有多个人脸。请只让需要认证的人留在镜头前，再试一次。",
    "still_image": "未通过活体检测。请本人正对摄像头，按提示做动作，再试一次。" + STAFF,
    "slideshow": "未通过活体检测。请本人正对摄像头，按提示做动作，再试一次。" + STAFF,
    "face_changed": "认证过程中镜头前换了人。请由被认证人本人从头完成认证。",
    "no_match": "人脸与登记的模板照片不一致。请确认身份证号码无误后再试一次；仍不成功，请到经办机构核实或重新建模。",
    "no_face": "没有检测到人脸。请正对摄像头，在光线充足的地方再试一次。",
    "poor_quality": "拍到的画面不够清楚（可能太暗或晃动）。请在明亮处正对摄像头、保持不动，再试一次。",
    "poor_quality_dark": "光线太暗，看不清您的脸。请到亮一点的地方或打开灯，正对摄像头再试一次。",
    "poor_quality_blurry": "画面模糊，看不清您的脸。请保持不动，擦一擦摄像头镜头，再试一次。",
    "poor_quality_small": "离摄像头太远，脸在画面里太小。请靠近一点，让脸占满框内，再试一次。",
    "poor_quality_not_frontal": "没有拍到您正对摄像头的样子。做完动作后请把脸转回来正对屏幕，再试一次。",
    "roster_ambiguous": "需要工作人员协助核实身份。请联系村协理员或到经办机构办理线下辅助认证。",
    "no_template": "您还没有人脸模板照片，无法刷脸认证。请前往经办机构建模，或请工作人员协助办理线下辅助认证。",
    "attempts_exceeded": "今天的刷脸认证次数已用完。请明天再试，或请工作人员协助办理线下辅助认证。",
    "camera_lost": "摄像头连接中断。请检查摄像头连线后重新开始认证。",
    "source_failed": "画面中断，没有完成认证。请工作人员检查摄像头或视频文件后，重新开始认证。",
    "internal_error": "本机出了故障，这次没有完成认证，也不算次数。请找工作人员处理。",
    "needs_staff": "需要工作人员协助核实身份。请联系村协理员或到经办机构办理线下辅助认证。",
    "cancelled": "认证已取消。",
}

GUIDANCE = {
    "multiple_faces": "请只保留一人在画面中",
    "too_dark": "光线太暗，请到亮一点的地方或打开灯",
    "too_bright": "光线太强，请避开强光",
    "too_far": "请靠近一点",
    "too_close": "请离远一点",
    "off_centre": "请把脸移到框的中间",
    "blurry": "请保持不动",
    "not_frontal": "请正对屏幕",
    "no_face": "请把脸对准屏幕",
}


def reason_message(reason: str, action: str | None = None) -> str:
    text = REASONS.get(reason, REASONS["no_face"])
    return text.format(action=ACTION_NAMES.get(action or "", "指定"))


def action_prompt(action: str) -> str:
    return ACTION_PROMPTS[action]

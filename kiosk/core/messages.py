"""The shared catalogue: the words of the two modules the hub and the terminal both run.

`kiosk.core` (ID numbers) and `kiosk.protocol` (records, bundles, receipt codes) raise errors whose
Chinese message both sides show: the terminal on its keypad and CLI, the hub in its pages, its CLI
and the acknowledgements it sends back to the terminal. The hub may import only `kiosk.core` and
`kiosk.protocol` (import-linter), so those words cannot live in the terminal's catalogue
(`kiosk.texts`); they live here, once, stdlib-only, and are filled the same way
(`message(code, **data)`, `{name}` placeholders). Every other message is the terminal's catalogue's
or, for the hub's own (its CLI, pages, API and roster errors), the hub's (kiosk.county.texts, same formatter).
Codes: `id_*` (kiosk.core.ids), `protocol_*` (kiosk.protocol.ProtocolError, by its code).
"""
from __future__ import annotations

import string

MESSAGES: dict[str, str] = {
    # ---------------------------------------------------------------- ID numbers (kiosk.core.ids)
    "id_length": "身份证号码应为18位，您输入了{n}位，请核对。",
    "id_too_long": "身份证号码只有18位，您输入了{n}位，请删去多余的数字。",
    "id_characters": "身份证号码只能是数字，最后一位可以是X，请核对。",
    "id_x_position": "字母X只能出现在身份证号码的最后一位，请核对。",
    "id_region": "身份证号码第一位应是1到8之间的数字，请核对。",
    "id_check_digit": "身份证号码最后一位校验不对，请逐位核对号码。",
    "id_birth_date_invalid": "身份证号码第7到14位是出生日期，{digits}不是有效的日期，请核对。",
    "id_birth_date_future": "身份证号码中的出生日期晚于今天，请核对。",
    "id_birth_date_too_early": "身份证号码中的出生日期早于1900年，请核对。",
    "id_birth_date_prefix": "身份证号码第7到14位是出生日期（年月日），您输入的不像日期，请核对。",
    # ---------------------------------------------------------------- protocol (kiosk.protocol.ProtocolError)
    "protocol_bad_encoding": "数据编码不正确，文件或请求可能已损坏。",
    "protocol_bad_key": "公钥格式不正确。",
    "protocol_not_for_this_device": "数据无法解密：它不是发给本机的，或已被改动。请向县社保局重新索取。",
    "protocol_face_data": "记录中含有图像或人脸特征数据，已拒收。",
    "protocol_face_vector": "记录中含有疑似人脸特征向量的数字串，已拒收。",
    "protocol_field_too_long": "记录中的文字过长（疑似图像或特征数据），已拒收。",
    "protocol_bad_pin_hash": "口令散列格式不认识。",
    "protocol_bad_uuid": "记录编号格式不正确。",
    "protocol_unknown_field": "记录中有无法识别的字段：{fields}。请升级终端程序。",
    "protocol_bad_record": "记录格式不正确，已拒收；终端会保留它，请联系县社保局信息科。",
    "protocol_bad_id_number": "记录中的身份证号码无效，已拒收。",
    "protocol_own_enrolment": "建模和审核是同一个人，县里未收此记录。建模须由另一位审核员审核。",
    "protocol_template_not_shared": "只有审核通过、且县里允许共享的建模才能附带模板，已拒收。",
    "protocol_bad_category": "未知的认证类别：{category}。",
    "protocol_bad_relative": "亲属承诺缺少亲属的姓名、关系、电话或有效的身份证号码，已拒收。",
    "protocol_bad_time": "记录中的时间格式不正确，已拒收。",
    "protocol_not_a_bundle": "这不是村口认证的数据包文件，或文件已损坏。请重新导出。",
    "protocol_bundle_version": "数据包版本不符，请把程序升级到最新版本后再导入。",
    "protocol_wrong_bundle_kind": "数据包类型不对：终端导出的包请在县里导入，县里导出的名册包请在终端导入。",
    "protocol_bad_signature": "数据包签名不对：文件已被改动或不是来自登记的设备，已拒绝导入。请重新导出后再试。",
    "protocol_not_for_us": "这个数据包不是发给本机（本县）的，已拒绝导入。",
    "protocol_receipt_device": "本机的设备编号不是县里发的格式，不能生成回执验证码。",
    "protocol_receipt_malformed": "这不是有效的回执验证码。请核对回执上的 28 位验证码（可不输横线），或扫描回执上的二维码。",
    # refusals of one record at the hub (Ack.code -> Ack.message, shown to village staff)
    "protocol_wrong_device": "记录里的设备编号不是发送它的这台设备，县里未收。请联系县社保局信息科。",
    "protocol_not_on_roster": "县里名册中没有这个人，县里未收此记录（本机已保留）。请核对身份证号，或请县社保局把此人加入名册后重新上传（kiosk sync --retry-rejected）。",
    "protocol_other_village": "此人不在本机所属村的名册上，县里未收此记录（本机已保留）。请让居民到户籍所在村认证，或请县社保局核对名册。",
    "protocol_removed_from_roster": "此人已从县里名册中移除，县里未收此记录（本机已保留）。请联系县社保局核对。",
    "protocol_list_separator": "、",
    "protocol_clock_suspect": "县里已收到，但记录时间与县里时间相差太大（本机时间可能不对），需县社保局核实后才计入认证状态。请校准本机时间。",
}


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, data: dict[str, object]) -> str:
    """`template` with its `{name}` placeholders filled from `data` (a missing value stays empty; never
    raises). The county hub's catalogue (kiosk.county.texts) fills its own sentences with it too."""
    try:
        return string.Formatter().vformat(template, (), _Lenient(data))
    except (ValueError, IndexError, AttributeError):
        return template


def message(code: str, **data: object) -> str:
    """The sentence for `code` filled with `data` (a missing value stays empty; never raises)."""
    return fill(MESSAGES.get(code, ""), data)

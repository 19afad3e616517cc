"""Demo-mode helpers for machines without a camera (the virtual camera)."""
from kiosk.demo.virtual_camera import ACTIONS, ActionState, VirtualCamera, action_duration

__all__ = ["ACTIONS", "ActionState", "VirtualCamera", "action_duration"]

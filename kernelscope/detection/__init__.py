"""Localization and detection: boxes, IoU, NMS, sliding windows, fully convolutional scanning, metrics.

The lecture notes' path from classification to detection: *classification +
localization* (one object: the target ``y = [p_c, b_x, b_y, b_h, b_w, c_1, ...]``),
then *detection* by sliding a tile classifier over a big scene, made fast by
turning its ``Dense`` head into convolutions (OverFeat), and cleaned up with
non-max suppression.
"""

from .boxes import BOX_FORMATS, box_area, convert_format, iou, non_max_suppression
from .fully_convolutional import fully_convolutional, network_stride
from .localization import LocalizationLoss, LocalizationTarget, MeanBoxIoU, box_iou, localization_head
from .metrics import (average_precision, coco_average_precision, match_detections, precision_recall,
                      precision_recall_curve)
from .visuals import draw_boxes, save_png, score_map_overlay
from .windows import SCAN_METHODS, ScanResult, detect, image_pyramid, scan, sliding_windows

__all__ = ["BOX_FORMATS", "box_area", "convert_format", "iou", "non_max_suppression", "average_precision",
           "coco_average_precision", "match_detections", "precision_recall", "precision_recall_curve",
           "fully_convolutional", "network_stride", "sliding_windows", "scan", "image_pyramid", "detect",
           "ScanResult", "SCAN_METHODS", "LocalizationTarget", "localization_head", "LocalizationLoss", "MeanBoxIoU",
           "box_iou", "draw_boxes", "score_map_overlay", "save_png"]

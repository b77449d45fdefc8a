"""DICOM PS3.15 Table E.1-1, Application Level Confidentiality Profile Attributes, as data.

Transcribed from DICOM PS3.15 2024b (Security and System Management Profiles), Annex E, Table
E.1-1, through the machine-readable export of that edition in github.com/innolitics/dicom-standard
(``standard/confidentiality_profile_attributes.json``, "Update standard to rev2024b"). One row per
attribute of the table, in the table's order: its tag as the standard writes it, its name, the
Basic Profile's action and, where the table fills them, the actions of the options' columns.

Actions (PS3.15 Table E.1-1a): D replace with a non-zero-length dummy, Z replace with zero length
(or a dummy), X remove, K keep, C clean, U replace with a consistent UID; ``A/B`` choose the weaker
action only when the IOD needs it; ``X/Z/U*`` remove, empty, or keep with the UIDs inside replaced.
Nothing here decides anything: :mod:`bot.dicom.deidentify` reads the table.
"""

from __future__ import annotations

from typing import NamedTuple

EDITION = "2024b"


class ProfileRow(NamedTuple):
    """One row of Table E.1-1: an attribute and the actions the profile and its options give it."""

    tag: str
    name: str
    basic: str
    retain_full_dates: str = ""
    retain_modified_dates: str = ""
    retain_patient_characteristics: str = ""
    retain_device_identity: str = ""
    retain_institution_identity: str = ""
    retain_uids: str = ""
    retain_safe_private: str = ""
    clean_descriptors: str = ""
    clean_graphics: str = ""
    clean_structured_content: str = ""


TABLE_E_1_1: tuple[ProfileRow, ...] = (
    ProfileRow("(0008,0050)", "Accession Number", "Z"),
    ProfileRow("(0018,4000)", "Acquisition Comments", "X", clean_descriptors="C"),
    ProfileRow("(0040,0555)", "Acquisition Context Sequence", "X/Z", clean_structured_content="C"),
    ProfileRow("(0008,0022)", "Acquisition Date", "X/Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0008,002A)", "Acquisition DateTime", "X/Z/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,1400)", "Acquisition Device Processing Description", "X/D", clean_descriptors="C"),
    ProfileRow("(0018,11BB)", "Acquisition Field Of View Label", "D", clean_descriptors="C"),
    ProfileRow("(0018,9424)", "Acquisition Protocol Description", "X", clean_descriptors="C"),
    ProfileRow("(0008,0032)", "Acquisition Time", "X/Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,0017)", "Acquisition UID", "U", retain_uids="K"),
    ProfileRow("(0040,4035)", "Actual Human Performers Sequence", "X"),
    ProfileRow("(0010,21B0)", "Additional Patient History", "X", clean_descriptors="C"),
    ProfileRow("(0040,A353)", "Address (Trial)", "X"),
    ProfileRow("(0038,0010)", "Admission ID", "X"),
    ProfileRow("(0038,0020)", "Admitting Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,1084)", "Admitting Diagnoses Code Sequence", "X", clean_descriptors="C"),
    ProfileRow("(0008,1080)", "Admitting Diagnoses Description", "X", clean_descriptors="C"),
    ProfileRow("(0038,0021)", "Admitting Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0000,1000)", "Affected SOP Instance UID", "X", retain_uids="K"),
    ProfileRow("(0010,2110)", "Allergies", "X", retain_patient_characteristics="C", clean_descriptors="C"),
    ProfileRow("(006A,0006)", "Annotation Group Description", "X", clean_descriptors="C"),
    ProfileRow("(006A,0005)", "Annotation Group Label", "D", clean_descriptors="C"),
    ProfileRow("(006A,0003)", "Annotation Group UID", "D", retain_uids="K"),
    ProfileRow(
        "(0044,0004)", "Approval Status DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(4000,0010)", "Arbitrary", "X"),
    ProfileRow("(0044,0104)", "Assertion DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0044,0105)", "Assertion Expiration DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0400,0562)",
        "Attribute Modification DateTime",
        "D",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0040,A078)", "Author Observer Sequence", "X"),
    ProfileRow("(2200,0005)", "Barcode Value", "X/Z"),
    ProfileRow("(300A,00C3)", "Beam Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(300C,0127)",
        "Beam Hold Transition DateTime",
        "D",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow("(300A,00DD)", "Bolus Description", "X", clean_descriptors="C"),
    ProfileRow("(0010,1081)", "Branch of Service", "X"),
    ProfileRow(
        "(0014,407E)",
        "Calibration Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,1203)",
        "Calibration DateTime",
        "Z",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0014,407C)",
        "Calibration Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow("(0016,004D)", "Camera Owner Name", "X"),
    ProfileRow("(0018,1007)", "Cassette ID", "X", retain_device_identity="K"),
    ProfileRow("(0400,0115)", "Certificate of Signer", "D"),
    ProfileRow("(0400,0310)", "Certified Timestamp", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0012,0060)", "Clinical Trial Coordinating Center Name", "Z", retain_institution_identity="K"
    ),
    ProfileRow("(0012,0082)", "Clinical Trial Protocol Ethics Committee Approval Number", "X"),
    ProfileRow(
        "(0012,0081)", "Clinical Trial Protocol Ethics Committee Name", "D", retain_institution_identity="K"
    ),
    ProfileRow("(0012,0020)", "Clinical Trial Protocol ID", "D"),
    ProfileRow("(0012,0021)", "Clinical Trial Protocol Name", "Z"),
    ProfileRow("(0012,0072)", "Clinical Trial Series Description", "X", clean_descriptors="C"),
    ProfileRow("(0012,0071)", "Clinical Trial Series ID", "X"),
    ProfileRow("(0012,0030)", "Clinical Trial Site ID", "Z", retain_institution_identity="K"),
    ProfileRow("(0012,0031)", "Clinical Trial Site Name", "Z", retain_institution_identity="K"),
    ProfileRow("(0012,0010)", "Clinical Trial Sponsor Name", "D"),
    ProfileRow("(0012,0040)", "Clinical Trial Subject ID", "D"),
    ProfileRow("(0012,0042)", "Clinical Trial Subject Reading ID", "D"),
    ProfileRow("(0012,0051)", "Clinical Trial Time Point Description", "X", clean_descriptors="C"),
    ProfileRow("(0012,0050)", "Clinical Trial Time Point ID", "Z"),
    ProfileRow("(0040,0310)", "Comments on Radiation Dose", "X", clean_descriptors="C"),
    ProfileRow("(0040,0280)", "Comments on the Performed Procedure Step", "X", clean_descriptors="C"),
    ProfileRow("(300A,02EB)", "Compensator Description", "X", clean_descriptors="C"),
    ProfileRow("(0020,9161)", "Concatenation UID", "U", retain_uids="K"),
    ProfileRow("(3010,000F)", "Conceptual Volume Combination Description", "Z", clean_descriptors="C"),
    ProfileRow("(3010,0017)", "Conceptual Volume Description", "Z", clean_descriptors="C"),
    ProfileRow("(3010,0006)", "Conceptual Volume UID", "U", retain_uids="K"),
    ProfileRow("(0040,3001)", "Confidentiality Constraint on Patient Data Description", "X"),
    ProfileRow("(3010,0013)", "Constituent Conceptual Volume UID", "U", retain_uids="K"),
    ProfileRow("(0008,009C)", "Consulting Physician's Name", "Z"),
    ProfileRow("(0008,009D)", "Consulting Physician Identification Sequence", "X"),
    ProfileRow("(0050,001B)", "Container Component ID", "X"),
    ProfileRow("(0040,051A)", "Container Description", "X", clean_descriptors="C"),
    ProfileRow("(0040,0512)", "Container Identifier", "D"),
    ProfileRow("(0070,0086)", "Content Creator's Identification Code Sequence", "X"),
    ProfileRow("(0070,0084)", "Content Creator's Name", "Z/D"),
    ProfileRow("(0008,0023)", "Content Date", "Z/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0040,A730)", "Content Sequence", "D", clean_structured_content="C"),
    ProfileRow("(0008,0033)", "Content Time", "Z/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0008,0107)", "Context Group Local Version", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,0106)", "Context Group Version", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0018,0010)", "Contrast/Bolus Agent", "Z/D", clean_descriptors="C"),
    ProfileRow(
        "(0018,1042)", "Contrast/Bolus Start Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0018,1043)", "Contrast/Bolus Stop Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,A002)", "Contribution DateTime", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0018,A003)", "Contribution Description", "X", clean_descriptors="C"),
    ProfileRow("(0010,2150)", "Country of Residence", "X"),
    ProfileRow("(2100,0040)", "Creation Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(2100,0050)", "Creation Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0040,A307)", "Current Observer (Trial)", "X"),
    ProfileRow("(0038,0300)", "Current Patient Location", "X"),
    ProfileRow("(50XX,XXXX)", "Curve Data", "X", clean_graphics="C"),
    ProfileRow("(0008,0025)", "Curve Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,0035)", "Curve Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0040,A07C)", "Custodial Organization Sequence", "X"),
    ProfileRow("(FFFC,FFFC)", "Data Set Trailing Padding", "X"),
    ProfileRow("(0040,A121)", "Date", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0040,A110)",
        "Date of Document or Verbal Transaction (Trial)",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0018,1205)",
        "Date of Installation",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,1200)",
        "Date of Last Calibration",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,700C)",
        "Date of Last Detector Calibration",
        "X/D",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,1204)",
        "Date of Manufacture",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,1012)", "Date of Secondary Capture", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,A120)", "DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0018,1202)",
        "DateTime of Last Calibration",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,9701)", "Decay Correction DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,937F)", "Decomposition Description", "X", clean_descriptors="C"),
    ProfileRow("(0008,2111)", "Derivation Description", "X", clean_descriptors="C"),
    ProfileRow("(2100,0140)", "Destination AE", "D", retain_device_identity="C"),
    ProfileRow("(0018,700A)", "Detector ID", "X/D", retain_device_identity="K"),
    ProfileRow("(3010,001B)", "Device Alternate Identifier", "Z"),
    ProfileRow("(0050,0020)", "Device Description", "X", retain_device_identity="K"),
    ProfileRow("(3010,002D)", "Device Label", "D", retain_device_identity="K"),
    ProfileRow("(0018,1000)", "Device Serial Number", "X/Z/D", retain_device_identity="K"),
    ProfileRow("(0016,004B)", "Device Setting Description", "X", clean_descriptors="C"),
    ProfileRow("(0018,1002)", "Device UID", "U", retain_device_identity="K", retain_uids="K"),
    ProfileRow(
        "(0400,0105)", "Digital Signature DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(FFFA,FFFA)", "Digital Signatures Sequence", "X"),
    ProfileRow("(0400,0100)", "Digital Signature UID", "U"),
    ProfileRow("(0020,9164)", "Dimension Organization UID", "U", retain_uids="K"),
    ProfileRow("(0038,0030)", "Discharge Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0038,0040)", "Discharge Diagnosis Description", "X", clean_descriptors="C"),
    ProfileRow("(0038,0032)", "Discharge Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300A,079A)", "Displacement Reference Label", "X", clean_descriptors="C"),
    ProfileRow("(4008,011A)", "Distribution Address", "X"),
    ProfileRow("(4008,0119)", "Distribution Name", "X"),
    ProfileRow("(300A,0016)", "Dose Reference Description", "X", clean_descriptors="C"),
    ProfileRow("(300A,0013)", "Dose Reference UID", "U", retain_uids="K"),
    ProfileRow("(3010,006E)", "Dosimetric Objective UID", "U", retain_uids="K"),
    ProfileRow("(0068,6226)", "Effective DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0042,0011)", "Encapsulated Document", "D"),
    ProfileRow(
        "(0018,9517)", "End Acquisition DateTime", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(3010,0037)", "Entity Description", "X", clean_descriptors="C"),
    ProfileRow("(3010,0035)", "Entity Label", "D", clean_descriptors="C"),
    ProfileRow("(3010,0038)", "Entity Long Label", "D", clean_descriptors="C"),
    ProfileRow("(3010,0036)", "Entity Name", "X", clean_descriptors="C"),
    ProfileRow("(300A,0676)", "Equipment Frame of Reference Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(0012,0087)",
        "Ethics Committee Approval Effectiveness End Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0012,0086)",
        "Ethics Committee Approval Effectiveness Start Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0010,2160)", "Ethnic Group", "X", retain_patient_characteristics="K"),
    ProfileRow(
        "(0018,9804)", "Exclusion Start DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0040,4011)", "Expected Completion DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,0058)", "Failed SOP Instance UID List", "U", retain_uids="K"),
    ProfileRow("(0070,031A)", "Fiducial UID", "U", retain_uids="K"),
    ProfileRow("(0040,2017)", "Filler Order Number / Imaging Service Request", "Z"),
    ProfileRow("(003A,032B)", "Filter Lookup Table Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(0040,A023)",
        "Findings Group Recording Date (Trial)",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,A024)",
        "Findings Group Recording Time (Trial)",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(3008,0054)", "First Treatment Date", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(300A,0196)", "Fixation Device Description", "X", clean_descriptors="C"),
    ProfileRow("(0034,0002)", "Flow Identifier", "D"),
    ProfileRow("(0034,0001)", "Flow Identifier Sequence", "D"),
    ProfileRow("(3010,007F)", "Fractionation Notes", "Z", clean_descriptors="C"),
    ProfileRow("(300A,0072)", "Fraction Group Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(0018,9074)", "Frame Acquisition DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0020,9158)", "Frame Comments", "X", clean_descriptors="C"),
    ProfileRow("(0020,0052)", "Frame of Reference UID", "U", retain_uids="K"),
    ProfileRow(
        "(0034,0007)", "Frame Origin Timestamp", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0018,9151)", "Frame Reference DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,9623)", "Functional Sync Pulse", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0018,1008)", "Gantry ID", "X", retain_device_identity="K"),
    ProfileRow("(0018,1005)", "Generator ID", "X", retain_device_identity="K"),
    ProfileRow("(0016,0076)", "GPS Altitude", "X"),
    ProfileRow("(0016,0075)", "GPS Altitude Ref", "X"),
    ProfileRow("(0016,008C)", "GPS Area Information", "X"),
    ProfileRow("(0016,008D)", "GPS Date Stamp", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0016,0088)", "GPS Dest Bearing", "X"),
    ProfileRow("(0016,0087)", "GPS Dest Bearing Ref", "X"),
    ProfileRow("(0016,008A)", "GPS Dest Distance", "X"),
    ProfileRow("(0016,0089)", "GPS Dest Distance Ref", "X"),
    ProfileRow("(0016,0084)", "GPS Dest Latitude", "X"),
    ProfileRow("(0016,0083)", "GPS Dest Latitude Ref", "X"),
    ProfileRow("(0016,0086)", "GPS Dest Longitude", "X"),
    ProfileRow("(0016,0085)", "GPS Dest Longitude Ref", "X"),
    ProfileRow("(0016,008E)", "GPS Differential", "X"),
    ProfileRow("(0016,007B)", "GPS DOP", "X"),
    ProfileRow("(0016,0081)", "GPS Img Direction", "X"),
    ProfileRow("(0016,0080)", "GPS Img Direction Ref", "X"),
    ProfileRow("(0016,0072)", "GPS Latitude", "X"),
    ProfileRow("(0016,0071)", "GPS Latitude Ref", "X"),
    ProfileRow("(0016,0074)", "GPS Longitude", "X"),
    ProfileRow("(0016,0073)", "GPS Longitude Ref", "X"),
    ProfileRow("(0016,0082)", "GPS Map Datum", "X"),
    ProfileRow("(0016,007A)", "GPS Measure Mode", "X"),
    ProfileRow("(0016,008B)", "GPS Processing Method", "X"),
    ProfileRow("(0016,0078)", "GPS Satellites", "X"),
    ProfileRow("(0016,007D)", "GPS Speed", "X"),
    ProfileRow("(0016,007C)", "GPS Speed Ref", "X"),
    ProfileRow("(0016,0079)", "GPS Status", "X"),
    ProfileRow("(0016,0077)", "GPS Time Stamp", "X"),
    ProfileRow("(0016,007F)", "GPS Track", "X"),
    ProfileRow("(0016,007E)", "GPS Track Ref", "X"),
    ProfileRow("(0016,0070)", "GPS Version ID", "X"),
    ProfileRow("(0070,0001)", "Graphic Annotation Sequence", "D", clean_graphics="C"),
    ProfileRow(
        "(0072,000A)",
        "Hanging Protocol Creation DateTime",
        "D",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,E004)", "HL7 Document Effective Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,4037)", "Human Performer's Name", "X"),
    ProfileRow("(0040,4036)", "Human Performer's Organization", "X"),
    ProfileRow("(0088,0200)", "Icon Image Sequence\n\n(see Note 11)", "X"),
    ProfileRow("(0008,4000)", "Identifying Comments", "X", clean_descriptors="C"),
    ProfileRow("(0020,4000)", "Image Comments", "X", clean_descriptors="C"),
    ProfileRow("(0028,4000)", "Image Presentation Comments", "X"),
    ProfileRow("(0040,2400)", "Imaging Service Request Comments", "X", clean_descriptors="C"),
    ProfileRow(
        "(003A,0314)", "Impedance Measurement DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(4008,0300)", "Impressions", "X", clean_descriptors="C"),
    ProfileRow(
        "(0068,6270)", "Information Issue DateTime", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0008,0015)", "Instance Coercion DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0008,0012)", "Instance Creation Date", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0008,0013)", "Instance Creation Time", "X/Z/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,0014)", "Instance Creator UID", "U", retain_uids="K"),
    ProfileRow("(0400,0600)", "Instance Origin Status", "X"),
    ProfileRow("(0008,0081)", "Institution Address", "X", retain_institution_identity="K"),
    ProfileRow("(0008,1040)", "Institutional Department Name", "X", retain_institution_identity="K"),
    ProfileRow(
        "(0008,1041)", "Institutional Department Type Code Sequence", "X", retain_institution_identity="K"
    ),
    ProfileRow("(0008,0082)", "Institution Code Sequence", "X/Z/D", retain_institution_identity="K"),
    ProfileRow("(0008,0080)", "Institution Name", "X/Z/D", retain_institution_identity="K"),
    ProfileRow(
        "(0018,9919)",
        "Instruction Performed DateTime",
        "Z/D",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0010,1050)", "Insurance Plan Identification", "X"),
    ProfileRow(
        "(3010,0085)", "Intended Fraction Start Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3010,004D)", "Intended Phase End Date", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3010,004C)", "Intended Phase Start Date", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,1011)", "Intended Recipients of Results Identification Sequence", "X"),
    ProfileRow("(300A,0741)", "Interlock DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300A,0742)", "Interlock Description", "D", clean_descriptors="C"),
    ProfileRow("(300A,0783)", "Interlock Origin Description", "D", clean_descriptors="C"),
    ProfileRow(
        "(4008,0112)", "Interpretation Approval Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(4008,0113)", "Interpretation Approval Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(4008,0111)", "Interpretation Approver Sequence", "X"),
    ProfileRow("(4008,010C)", "Interpretation Author", "X"),
    ProfileRow("(4008,0115)", "Interpretation Diagnosis Description", "X", clean_descriptors="C"),
    ProfileRow("(4008,0200)", "Interpretation ID", "X"),
    ProfileRow("(4008,0202)", "Interpretation ID Issuer", "X"),
    ProfileRow(
        "(4008,0100)", "Interpretation Recorded Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(4008,0101)", "Interpretation Recorded Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(4008,0102)", "Interpretation Recorder", "X"),
    ProfileRow("(4008,010B)", "Interpretation Text", "X", clean_descriptors="C"),
    ProfileRow("(4008,010A)", "Interpretation Transcriber", "X"),
    ProfileRow(
        "(4008,0108)",
        "Interpretation Transcription Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(4008,0109)",
        "Interpretation Transcription Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0018,0035)", "Intervention Drug Start Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0018,0027)", "Intervention Drug Stop Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,3010)", "Irradiation Event UID", "U", retain_uids="K"),
    ProfileRow(
        "(0040,2004)",
        "Issue Date of Imaging Service Request",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0038,0011)", "Issuer of Admission ID", "X"),
    ProfileRow("(0038,0014)", "Issuer of Admission ID Sequence", "X"),
    ProfileRow("(0012,0022)", "Issuer of Clinical Trial Protocol ID", "X"),
    ProfileRow("(0012,0073)", "Issuer of Clinical Trial Series ID", "X"),
    ProfileRow("(0012,0032)", "Issuer of Clinical Trial Site ID", "X"),
    ProfileRow("(0012,0041)", "Issuer of Clinical Trial Subject ID", "X"),
    ProfileRow("(0012,0043)", "Issuer of Clinical Trial Subject Reading ID", "X"),
    ProfileRow("(0012,0055)", "Issuer of Clinical Trial Time Point ID", "X"),
    ProfileRow("(0010,0021)", "Issuer of Patient ID", "X"),
    ProfileRow("(0038,0061)", "Issuer of Service Episode ID", "X"),
    ProfileRow("(0038,0064)", "Issuer of Service Episode ID Sequence", "X"),
    ProfileRow("(0040,0513)", "Issuer of the Container Identifier Sequence", "Z"),
    ProfileRow("(0040,0562)", "Issuer of the Specimen Identifier Sequence", "Z"),
    ProfileRow(
        "(0040,2005)",
        "Issue Time of Imaging Service Request",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(2200,0002)", "Label Text", "X/Z", clean_descriptors="C"),
    ProfileRow("(0028,1214)", "Large Palette Color Lookup Table UID", "U", retain_uids="K"),
    ProfileRow("(0010,21D0)", "Last Menstrual Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0016,004F)", "Lens Make", "X", retain_device_identity="K"),
    ProfileRow("(0016,0050)", "Lens Model", "X", retain_device_identity="K"),
    ProfileRow("(0016,0051)", "Lens Serial Number", "X", retain_device_identity="K"),
    ProfileRow("(0016,004E)", "Lens Specification", "X", retain_device_identity="K"),
    ProfileRow("(0050,0021)", "Long Device Description", "X", clean_descriptors="C"),
    ProfileRow("(0400,0404)", "MAC", "X"),
    ProfileRow("(0016,002B)", "Maker Note", "X", clean_descriptors="C"),
    ProfileRow(
        "(0018,100B)", "Manufacturer's Device Class UID", "U", retain_device_identity="K", retain_uids="K"
    ),
    ProfileRow("(3010,0043)", "Manufacturer's Device Identifier", "Z", retain_device_identity="K"),
    ProfileRow("(0002,0003)", "Media Storage SOP Instance UID", "U", retain_uids="K"),
    ProfileRow("(0010,2000)", "Medical Alerts", "X", clean_descriptors="C"),
    ProfileRow("(0010,1090)", "Medical Record Locator", "X"),
    ProfileRow("(0010,1080)", "Military Rank", "X"),
    ProfileRow("(0400,0550)", "Modified Attributes Sequence", "X"),
    ProfileRow("(0020,3403)", "Modified Image Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0020,3406)", "Modified Image Description", "X"),
    ProfileRow("(0020,3405)", "Modified Image Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0020,3401)", "Modifying Device ID", "X", retain_device_identity="K"),
    ProfileRow("(0400,0563)", "Modifying System", "D", retain_device_identity="K"),
    ProfileRow(
        "(3008,0056)", "Most Recent Treatment Date", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,937B)", "Multi-energy Acquisition Description", "X", clean_descriptors="C"),
    ProfileRow("(003A,0310)", "Multiplex Group UID", "U", retain_uids="K"),
    ProfileRow("(0008,1060)", "Name of Physician(s) Reading Study", "X"),
    ProfileRow("(0040,1010)", "Names of Intended Recipients of Results", "X"),
    ProfileRow("(0008,1000)", "Network ID", "X", retain_device_identity="C"),
    ProfileRow("(0400,0552)", "Nonconforming Data Element Value", "X"),
    ProfileRow("(0400,0551)", "Nonconforming Modified Attributes Sequence", "X"),
    ProfileRow(
        "(0040,A192)", "Observation Date (Trial)", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0040,A032)", "Observation DateTime", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0040,A033)", "Observation Start DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,A402)", "Observation Subject UID (Trial)", "U", retain_uids="K"),
    ProfileRow(
        "(0040,A193)", "Observation Time (Trial)", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,A171)", "Observation UID", "U", retain_uids="K"),
    ProfileRow("(0010,2180)", "Occupation", "X", clean_descriptors="C"),
    ProfileRow("(0008,1072)", "Operator Identification Sequence", "X/D"),
    ProfileRow("(0008,1070)", "Operators' Name", "X/Z/D"),
    ProfileRow("(0040,2010)", "Order Callback Phone Number", "X"),
    ProfileRow("(0040,2011)", "Order Callback Telecom Information", "X"),
    ProfileRow("(0040,2008)", "Order Entered By", "X"),
    ProfileRow("(0040,2009)", "Order Enterer's Location", "X"),
    ProfileRow("(0400,0561)", "Original Attributes Sequence", "X"),
    ProfileRow("(2100,0070)", "Originator", "X", retain_device_identity="C"),
    ProfileRow("(0012,0023)", "Other Clinical Trial Protocol IDs Sequence", "X"),
    ProfileRow("(0010,1000)", "Other Patient IDs", "X"),
    ProfileRow("(0010,1002)", "Other Patient IDs Sequence", "X"),
    ProfileRow("(0010,1001)", "Other Patient Names", "X"),
    ProfileRow("(60XX,4000)", "Overlay Comments", "X", clean_graphics="C"),
    ProfileRow("(60XX,3000)", "Overlay Data", "X", clean_graphics="C"),
    ProfileRow("(0008,0024)", "Overlay Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,0034)", "Overlay Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300A,0760)", "Override DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0028,1199)", "Palette Color Lookup Table UID", "U", retain_uids="K"),
    ProfileRow("(0040,A07A)", "Participant Sequence", "X"),
    ProfileRow(
        "(0040,A082)", "Participation DateTime", "Z", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0010,1040)", "Patient's Address", "X"),
    ProfileRow("(0010,1010)", "Patient's Age", "X", retain_patient_characteristics="K"),
    ProfileRow("(0010,0030)", "Patient's Birth Date", "Z"),
    ProfileRow("(0010,1005)", "Patient's Birth Name", "X"),
    ProfileRow("(0010,0032)", "Patient's Birth Time", "X"),
    ProfileRow("(0038,0400)", "Patient's Institution Residence", "X"),
    ProfileRow("(0010,0050)", "Patient's Insurance Plan Code Sequence", "X"),
    ProfileRow("(0010,1060)", "Patient's Mother's Birth Name", "X"),
    ProfileRow("(0010,0010)", "Patient's Name", "Z"),
    ProfileRow("(0010,0101)", "Patient's Primary Language Code Sequence", "X"),
    ProfileRow("(0010,0102)", "Patient's Primary Language Modifier Code Sequence", "X"),
    ProfileRow("(0010,21F0)", "Patient's Religious Preference", "X"),
    ProfileRow("(0010,0040)", "Patient's Sex", "Z", retain_patient_characteristics="K"),
    ProfileRow("(0010,2203)", "Patient's Sex Neutered", "X/Z", retain_patient_characteristics="K"),
    ProfileRow("(0010,1020)", "Patient's Size", "X", retain_patient_characteristics="K"),
    ProfileRow("(0010,2155)", "Patient's Telecom Information", "X"),
    ProfileRow("(0010,2154)", "Patient's Telephone Numbers", "X"),
    ProfileRow("(0010,1030)", "Patient's Weight", "X", retain_patient_characteristics="K"),
    ProfileRow("(0010,4000)", "Patient Comments", "X", clean_descriptors="C"),
    ProfileRow("(0010,0020)", "Patient ID", "Z/D"),
    ProfileRow("(300A,0794)", "Patient Setup Photo Description", "X", clean_descriptors="C"),
    ProfileRow("(300A,0650)", "Patient Setup UID", "U", retain_uids="K"),
    ProfileRow(
        "(0038,0500)", "Patient State", "X", retain_patient_characteristics="C", clean_descriptors="C"
    ),
    ProfileRow("(0040,1004)", "Patient Transport Arrangements", "X"),
    ProfileRow("(300A,0792)", "Patient Treatment Preparation Method Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(300A,078E)",
        "Patient Treatment Preparation Procedure Parameter Description",
        "X",
        clean_descriptors="C",
    ),
    ProfileRow("(0040,0243)", "Performed Location", "X"),
    ProfileRow("(0040,0254)", "Performed Procedure Step Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(0040,0250)",
        "Performed Procedure Step End Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,4051)",
        "Performed Procedure Step End DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,0251)",
        "Performed Procedure Step End Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0040,0253)", "Performed Procedure Step ID", "X"),
    ProfileRow(
        "(0040,0244)",
        "Performed Procedure Step Start Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,4050)",
        "Performed Procedure Step Start DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,0245)",
        "Performed Procedure Step Start Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0040,0241)", "Performed Station AE Title", "X", retain_device_identity="C"),
    ProfileRow(
        "(0040,4030)", "Performed Station Geographic Location Code Sequence", "X", retain_device_identity="K"
    ),
    ProfileRow("(0040,0242)", "Performed Station Name", "X", retain_device_identity="K"),
    ProfileRow("(0040,4028)", "Performed Station Name Code Sequence", "X", retain_device_identity="K"),
    ProfileRow("(0008,1050)", "Performing Physician's Name", "X"),
    ProfileRow("(0008,1052)", "Performing Physician Identification Sequence", "X"),
    ProfileRow("(0040,1102)", "Person's Address", "X"),
    ProfileRow("(0040,1104)", "Person's Telecom Information", "X"),
    ProfileRow("(0040,1103)", "Person's Telephone Numbers", "X"),
    ProfileRow("(0040,1101)", "Person Identification Code Sequence", "D"),
    ProfileRow("(0040,A123)", "Person Name", "D"),
    ProfileRow("(0008,1048)", "Physician(s) of Record", "X"),
    ProfileRow("(0008,1049)", "Physician(s) of Record Identification Sequence", "X"),
    ProfileRow("(0008,1062)", "Physician(s) Reading Study Identification Sequence", "X"),
    ProfileRow("(4008,0114)", "Physician Approving Interpretation", "X"),
    ProfileRow("(0040,2016)", "Placer Order Number / Imaging Service Request", "Z"),
    ProfileRow("(0018,1004)", "Plate ID", "X", retain_device_identity="K"),
    ProfileRow("(3002,0123)", "Position Acquisition Template Description", "X", clean_descriptors="C"),
    ProfileRow("(3002,0121)", "Position Acquisition Template Name", "X", clean_descriptors="C"),
    ProfileRow("(0010,21C0)", "Pregnancy Status", "X", retain_patient_characteristics="K"),
    ProfileRow("(0040,0012)", "Pre-Medication", "X", retain_patient_characteristics="C"),
    ProfileRow("(300A,000E)", "Prescription Description", "X", clean_descriptors="C"),
    ProfileRow("(3010,007B)", "Prescription Notes", "Z", clean_descriptors="C"),
    ProfileRow("(3010,0081)", "Prescription Notes Sequence", "Z", clean_descriptors="C"),
    ProfileRow(
        "(0070,0082)", "Presentation Creation Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0070,0083)", "Presentation Creation Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0070,1101)", "Presentation Display Collection UID", "U", retain_uids="K"),
    ProfileRow("(0070,1102)", "Presentation Sequence Collection UID", "U", retain_uids="K"),
    ProfileRow("(3010,0061)", "Prior Treatment Dose Description", "X", clean_descriptors="C"),
    ProfileRow("(GGGG,EEEE) WHERE GGGG IS ODD", "Private Attributes", "X", retain_safe_private="C"),
    ProfileRow(
        "(0040,4052)",
        "Procedure Step Cancellation DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0044,000B)", "Product Expiration DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0018,1030)", "Protocol Name", "X/D", clean_descriptors="C"),
    ProfileRow("(0008,1088)", "Pyramid Description", "X", clean_descriptors="C"),
    ProfileRow("(0020,0027)", "Pyramid Label", "X", clean_descriptors="C"),
    ProfileRow("(0008,0019)", "Pyramid UID", "U", retain_uids="K"),
    ProfileRow("(300A,0619)", "Radiation Dose Identification Label", "D", clean_descriptors="C"),
    ProfileRow("(300A,0623)", "Radiation Dose In-Vivo Measurement Label", "D", clean_descriptors="C"),
    ProfileRow("(300A,067D)", "Radiation Generation Mode Description", "Z", clean_descriptors="C"),
    ProfileRow("(300A,067C)", "Radiation Generation Mode Label", "D", clean_descriptors="C"),
    ProfileRow(
        "(0018,1078)",
        "Radiopharmaceutical Start DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0018,1072)", "Radiopharmaceutical Start Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0018,1079)",
        "Radiopharmaceutical Stop DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0018,1073)", "Radiopharmaceutical Stop Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(300C,0113)", "Reason for Omission Description", "X", clean_descriptors="C"),
    ProfileRow("(0040,100A)", "Reason for Requested Procedure Code Sequence", "X", clean_descriptors="C"),
    ProfileRow("(0032,1030)", "Reason for Study", "X", clean_descriptors="C"),
    ProfileRow("(3010,005C)", "Reason for Superseding", "Z", clean_descriptors="C"),
    ProfileRow("(0400,0565)", "Reason for the Attribute Modification", "D", clean_descriptors="C"),
    ProfileRow("(0040,2001)", "Reason for the Imaging Service Request", "X", clean_descriptors="C"),
    ProfileRow("(0040,1002)", "Reason for the Requested Procedure", "X", clean_descriptors="C"),
    ProfileRow("(0032,1066)", "Reason for Visit", "X", clean_descriptors="C"),
    ProfileRow("(0032,1067)", "Reason for Visit Code Sequence", "X", clean_descriptors="C"),
    ProfileRow("(0074,1234)", "Receiving AE", "X", retain_device_identity="C"),
    ProfileRow(
        "(300A,073A)",
        "Recorded RT Control Point DateTime",
        "D",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(3010,000B)", "Referenced Conceptual Volume UID", "U", retain_uids="K"),
    ProfileRow("(0040,A13A)", "Referenced DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0400,0402)", "Referenced Digital Signature Sequence", "X"),
    ProfileRow("(300A,0083)", "Referenced Dose Reference UID", "U", retain_uids="K"),
    ProfileRow("(3010,006F)", "Referenced Dosimetric Objective UID", "U", retain_uids="K"),
    ProfileRow("(3010,0031)", "Referenced Fiducials UID", "U", retain_uids="K"),
    ProfileRow("(3006,0024)", "Referenced Frame of Reference UID", "U", retain_uids="K"),
    ProfileRow(
        "(0040,4023)",
        "Referenced General Purpose Scheduled Procedure Step Transaction UID",
        "U",
        retain_uids="K",
    ),
    ProfileRow("(0008,1140)", "Referenced Image Sequence", "X/Z/U*", retain_uids="K"),
    ProfileRow("(0040,A172)", "Referenced Observation UID (Trial)", "U", retain_uids="K"),
    ProfileRow("(0038,0004)", "Referenced Patient Alias Sequence", "X"),
    ProfileRow("(0010,1100)", "Referenced Patient Photo Sequence", "X"),
    ProfileRow("(0008,1120)", "Referenced Patient Sequence", "X", retain_uids="K"),
    ProfileRow("(0008,1111)", "Referenced Performed Procedure Step Sequence", "X/Z/D", retain_uids="K"),
    ProfileRow("(0400,0403)", "Referenced SOP Instance MAC Sequence", "X"),
    ProfileRow("(0008,1155)", "Referenced SOP Instance UID", "U", retain_uids="K"),
    ProfileRow("(0004,1511)", "Referenced SOP Instance UID in File", "U", retain_uids="K"),
    ProfileRow("(0008,1110)", "Referenced Study Sequence", "X/Z", retain_uids="K"),
    ProfileRow("(300A,0785)", "Referenced Treatment Position Group UID", "U", retain_uids="K"),
    ProfileRow("(0008,0092)", "Referring Physician's Address", "X"),
    ProfileRow("(0008,0090)", "Referring Physician's Name", "Z"),
    ProfileRow("(0008,0094)", "Referring Physician's Telephone Numbers", "X"),
    ProfileRow("(0008,0096)", "Referring Physician Identification Sequence", "X"),
    ProfileRow("(0010,2152)", "Region of Residence", "X"),
    ProfileRow("(3006,00C2)", "Related Frame of Reference UID", "U", retain_uids="K"),
    ProfileRow("(0040,0275)", "Request Attributes Sequence", "X", clean_descriptors="C"),
    ProfileRow("(0032,1070)", "Requested Contrast Agent", "X", clean_descriptors="C"),
    ProfileRow("(0040,1400)", "Requested Procedure Comments", "X", clean_descriptors="C"),
    ProfileRow("(0032,1060)", "Requested Procedure Description", "X/Z", clean_descriptors="C"),
    ProfileRow("(0040,1001)", "Requested Procedure ID", "X"),
    ProfileRow("(0040,1005)", "Requested Procedure Location", "X"),
    ProfileRow("(0018,9937)", "Requested Series Description", "X", clean_descriptors="C"),
    ProfileRow("(0000,1001)", "Requested SOP Instance UID", "U", retain_uids="K"),
    ProfileRow("(0074,1236)", "Requesting AE", "X", retain_device_identity="C"),
    ProfileRow("(0032,1032)", "Requesting Physician", "X"),
    ProfileRow("(0032,1033)", "Requesting Service", "X"),
    ProfileRow(
        "(0018,9185)", "Respiratory Motion Compensation Technique Description", "X", clean_descriptors="C"
    ),
    ProfileRow("(0010,2299)", "Responsible Organization", "X"),
    ProfileRow("(0010,2297)", "Responsible Person", "X"),
    ProfileRow("(4008,4000)", "Results Comments", "X", clean_descriptors="C"),
    ProfileRow("(4008,0118)", "Results Distribution List Sequence", "X"),
    ProfileRow("(4008,0040)", "Results ID", "X"),
    ProfileRow("(4008,0042)", "Results ID Issuer", "X"),
    ProfileRow("(0008,0054)", "Retrieve AE Title", "X", retain_device_identity="C"),
    ProfileRow("(300E,0004)", "Review Date", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300E,0008)", "Reviewer Name", "X/Z"),
    ProfileRow("(300E,0005)", "Review Time", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(3006,004D)", "ROI Creator Sequence", "X"),
    ProfileRow("(3006,002D)", "ROI DateTime", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(3006,0028)", "ROI Description", "X", clean_descriptors="C"),
    ProfileRow("(3006,0038)", "ROI Generation Description", "X", clean_descriptors="C"),
    ProfileRow("(3006,00A6)", "ROI Interpreter", "Z"),
    ProfileRow("(3006,004E)", "ROI Interpreter Sequence", "X"),
    ProfileRow("(3006,0026)", "ROI Name", "Z", clean_descriptors="C"),
    ProfileRow(
        "(3006,002E)", "ROI Observation DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(3006,0088)", "ROI Observation Description", "X", clean_descriptors="C"),
    ProfileRow("(3006,0085)", "ROI Observation Label", "X", clean_descriptors="C"),
    ProfileRow("(300A,0615)", "RT Accessory Device Slot ID", "Z"),
    ProfileRow("(300A,0611)", "RT Accessory Holder Slot ID", "Z"),
    ProfileRow("(3010,005A)", "RT Physician Intent Narrative", "Z", clean_descriptors="C"),
    ProfileRow("(300A,0006)", "RT Plan Date", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300A,0004)", "RT Plan Description", "X", clean_descriptors="C"),
    ProfileRow("(300A,0002)", "RT Plan Label", "D", clean_descriptors="C"),
    ProfileRow("(300A,0003)", "RT Plan Name", "X", clean_descriptors="C"),
    ProfileRow("(300A,0007)", "RT Plan Time", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(3010,0054)", "RT Prescription Label", "D", clean_descriptors="C"),
    ProfileRow("(300A,062A)", "RT Tolerance Set Label", "D", clean_descriptors="C"),
    ProfileRow("(3010,0056)", "RT Treatment Approach Label", "X/D", clean_descriptors="C"),
    ProfileRow("(3010,003B)", "RT Treatment Phase UID", "U", retain_uids="K"),
    ProfileRow(
        "(3008,0162)", "Safe Position Exit Date", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3008,0164)", "Safe Position Exit Time", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3008,0166)", "Safe Position Return Date", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3008,0168)", "Safe Position Return Time", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0038,001A)", "Scheduled Admission Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0038,001B)", "Scheduled Admission Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0038,001C)", "Scheduled Discharge Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0038,001D)", "Scheduled Discharge Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,4034)", "Scheduled Human Performers Sequence", "X"),
    ProfileRow("(0038,001E)", "Scheduled Patient Institution Residence", "X"),
    ProfileRow("(0040,0006)", "Scheduled Performing Physician's Name", "X"),
    ProfileRow("(0040,000B)", "Scheduled Performing Physician Identification Sequence", "X"),
    ProfileRow("(0040,0007)", "Scheduled Procedure Step Description", "X", clean_descriptors="C"),
    ProfileRow(
        "(0040,0004)",
        "Scheduled Procedure Step End Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,0005)",
        "Scheduled Procedure Step End Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,4008)",
        "Scheduled Procedure Step Expiration DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0040,0009)", "Scheduled Procedure Step ID", "X"),
    ProfileRow("(0040,0011)", "Scheduled Procedure Step Location", "X", retain_device_identity="K"),
    ProfileRow(
        "(0040,4010)",
        "Scheduled Procedure Step Modification DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,0002)",
        "Scheduled Procedure Step Start Date",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,4005)",
        "Scheduled Procedure Step Start DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0040,0003)",
        "Scheduled Procedure Step Start Time",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0040,0001)", "Scheduled Station AE Title", "X", retain_device_identity="C"),
    ProfileRow(
        "(0040,4027)", "Scheduled Station Geographic Location Code Sequence", "X", retain_device_identity="K"
    ),
    ProfileRow("(0040,0010)", "Scheduled Station Name", "X", retain_device_identity="K"),
    ProfileRow("(0040,4025)", "Scheduled Station Name Code Sequence", "X", retain_device_identity="K"),
    ProfileRow("(0032,1020)", "Scheduled Study Location", "X", retain_device_identity="K"),
    ProfileRow("(0032,1021)", "Scheduled Study Location AE Title", "X", retain_device_identity="C"),
    ProfileRow(
        "(0032,1000)", "Scheduled Study Start Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0032,1001)", "Scheduled Study Start Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0032,1010)", "Scheduled Study Stop Date", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0032,1011)", "Scheduled Study Stop Time", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0072,005E)", "Selector AE Value", "D", retain_device_identity="C"),
    ProfileRow("(0072,005F)", "Selector AS Value", "D", retain_patient_characteristics="K"),
    ProfileRow("(0072,0061)", "Selector DA Value", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0072,0063)", "Selector DT Value", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0072,0066)", "Selector LO Value", "D", clean_descriptors="C"),
    ProfileRow("(0072,0068)", "Selector LT Value", "D", clean_descriptors="C"),
    ProfileRow("(0072,0065)", "Selector OB Value", "D"),
    ProfileRow("(0072,006A)", "Selector PN Value", "D"),
    ProfileRow("(0072,006C)", "Selector SH Value", "D", clean_descriptors="C"),
    ProfileRow("(0072,006E)", "Selector ST Value", "D", clean_descriptors="C"),
    ProfileRow("(0072,006B)", "Selector TM Value", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0072,006D)", "Selector UN Value", "D"),
    ProfileRow("(0072,0071)", "Selector UR Value", "D"),
    ProfileRow("(0072,0070)", "Selector UT Value", "D", clean_descriptors="C"),
    ProfileRow("(0008,0021)", "Series Date", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,103E)", "Series Description", "X", clean_descriptors="C"),
    ProfileRow("(0020,000E)", "Series Instance UID", "U", retain_uids="K"),
    ProfileRow("(0008,0031)", "Series Time", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0038,0062)", "Service Episode Description", "X", clean_descriptors="C"),
    ProfileRow("(0038,0060)", "Service Episode ID", "X"),
    ProfileRow("(300A,01B2)", "Setup Technique Description", "X", clean_descriptors="C"),
    ProfileRow("(300A,01A6)", "Shielding Device Description", "X", clean_descriptors="C"),
    ProfileRow("(0040,06FA)", "Slide Identifier", "X"),
    ProfileRow("(0010,21A0)", "Smoking Status", "X", retain_patient_characteristics="K"),
    ProfileRow(
        "(0100,0420)", "SOP Authorization DateTime", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,0018)", "SOP Instance UID", "U", retain_uids="K"),
    ProfileRow("(3010,0015)", "Source Conceptual Volume UID", "U", retain_uids="K"),
    ProfileRow("(0018,936A)", "Source End DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0064,0003)", "Source Frame of Reference UID", "U", retain_uids="K"),
    ProfileRow("(0034,0005)", "Source Identifier", "D"),
    ProfileRow("(0008,2112)", "Source Image Sequence", "X/Z/U*", retain_uids="K"),
    ProfileRow("(300A,0216)", "Source Manufacturer", "X", retain_device_identity="K"),
    ProfileRow("(0400,0564)", "Source of Previous Values", "Z", retain_institution_identity="K"),
    ProfileRow("(3008,0105)", "Source Serial Number", "X/Z", retain_device_identity="K"),
    ProfileRow("(0018,9369)", "Source Start DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(300A,022C)", "Source Strength Reference Date", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(300A,022E)", "Source Strength Reference Time", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0038,0050)", "Special Needs", "X", retain_patient_characteristics="C"),
    ProfileRow("(0040,050A)", "Specimen Accession Number", "X"),
    ProfileRow("(0040,0602)", "Specimen Detailed Description", "X", clean_descriptors="C"),
    ProfileRow("(0040,0551)", "Specimen Identifier", "D"),
    ProfileRow("(0040,0610)", "Specimen Preparation Sequence", "Z", clean_structured_content="C"),
    ProfileRow("(0040,0600)", "Specimen Short Description", "X", clean_descriptors="C"),
    ProfileRow("(0040,0554)", "Specimen UID", "U", retain_uids="K"),
    ProfileRow(
        "(0018,9516)", "Start Acquisition DateTime", "X/D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0008,0055)", "Station AE Title", "X", retain_device_identity="C"),
    ProfileRow("(0008,1010)", "Station Name", "X/Z/D", retain_device_identity="K"),
    ProfileRow("(0088,0140)", "Storage Media File-set UID", "U", retain_uids="K"),
    ProfileRow("(3006,0008)", "Structure Set Date", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(3006,0006)", "Structure Set Description", "X", clean_descriptors="C"),
    ProfileRow("(3006,0002)", "Structure Set Label", "D", clean_descriptors="C"),
    ProfileRow("(3006,0004)", "Structure Set Name", "X", clean_descriptors="C"),
    ProfileRow("(3006,0009)", "Structure Set Time", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,1040)", "Study Arrival Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,1041)", "Study Arrival Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,4000)", "Study Comments", "X", clean_descriptors="C"),
    ProfileRow("(0032,1050)", "Study Completion Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,1051)", "Study Completion Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,0020)", "Study Date", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,1030)", "Study Description", "X", clean_descriptors="C"),
    ProfileRow("(0020,0010)", "Study ID", "Z"),
    ProfileRow("(0032,0012)", "Study ID Issuer", "X"),
    ProfileRow("(0020,000D)", "Study Instance UID", "U", retain_uids="K"),
    ProfileRow("(0032,0034)", "Study Read Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,0035)", "Study Read Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0008,0030)", "Study Time", "Z", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,0032)", "Study Verified Date", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0032,0033)", "Study Verified Time", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0044,0010)",
        "Substance Administration DateTime",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(0020,0200)", "Synchronization Frame of Reference UID", "U", retain_uids="K"),
    ProfileRow("(0018,2042)", "Target UID", "U", retain_uids="K"),
    ProfileRow("(0040,A354)", "Telephone Number (Trial)", "X"),
    ProfileRow("(0040,DB0D)", "Template Extension Creator UID", "U", retain_uids="K"),
    ProfileRow("(0040,DB0C)", "Template Extension Organization UID", "U", retain_uids="K"),
    ProfileRow(
        "(0040,DB07)", "Template Local Version", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0040,DB06)", "Template Version", "X", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(4000,4000)", "Text Comments", "X"),
    ProfileRow("(2030,0020)", "Text String", "X"),
    ProfileRow("(0040,A122)", "Time", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(0040,A112)",
        "Time of Document Creation or Verbal Transaction (Trial)",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow(
        "(0018,1201)",
        "Time of Last Calibration",
        "X",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,700E)",
        "Time of Last Detector Calibration",
        "X/D",
        retain_full_dates="K",
        retain_modified_dates="C",
        retain_device_identity="K",
    ),
    ProfileRow(
        "(0018,1014)", "Time of Secondary Capture", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(0008,0201)", "Timezone Offset From UTC", "X", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(0088,0910)", "Topic Author", "X"),
    ProfileRow("(0088,0912)", "Topic Keywords", "X"),
    ProfileRow("(0088,0906)", "Topic Subject", "X"),
    ProfileRow("(0088,0904)", "Topic Title", "X"),
    ProfileRow("(0062,0021)", "Tracking UID", "U", retain_uids="K"),
    ProfileRow("(0008,1195)", "Transaction UID", "U", retain_uids="K"),
    ProfileRow("(0018,5011)", "Transducer Identification Sequence", "X", retain_device_identity="K"),
    ProfileRow(
        "(3008,0024)", "Treatment Control Point Date", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow(
        "(3008,0025)", "Treatment Control Point Time", "D", retain_full_dates="K", retain_modified_dates="C"
    ),
    ProfileRow("(3008,0250)", "Treatment Date", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(300A,00B2)", "Treatment Machine Name", "X/Z", retain_device_identity="K"),
    ProfileRow("(300A,0608)", "Treatment Position Group Label", "D", clean_descriptors="C"),
    ProfileRow("(300A,0609)", "Treatment Position Group UID", "U", retain_uids="K"),
    ProfileRow("(300A,0700)", "Treatment Session UID", "U", retain_uids="K"),
    ProfileRow("(3010,0077)", "Treatment Site", "X/D", clean_descriptors="C"),
    ProfileRow("(300A,000B)", "Treatment Sites", "X", clean_descriptors="C"),
    ProfileRow("(3010,007A)", "Treatment Technique Notes", "Z", clean_descriptors="C"),
    ProfileRow("(3008,0251)", "Treatment Time", "X/D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow(
        "(300A,0736)",
        "Treatment Tolerance Violation DateTime",
        "D",
        retain_full_dates="K",
        retain_modified_dates="C",
    ),
    ProfileRow("(300A,0734)", "Treatment Tolerance Violation Description", "D", clean_descriptors="C"),
    ProfileRow("(0018,100A)", "UDI Sequence", "X", retain_device_identity="K"),
    ProfileRow("(0040,A124)", "UID", "U"),
    ProfileRow("(0018,1009)", "Unique Device Identifier", "X", retain_device_identity="K"),
    ProfileRow("(3010,0033)", "User Content Label", "D", clean_descriptors="C"),
    ProfileRow("(3010,0034)", "User Content Long Label", "D", clean_descriptors="C"),
    ProfileRow("(0040,A352)", "Verbal Source (Trial)", "X"),
    ProfileRow("(0040,A358)", "Verbal Source Identifier Code Sequence (Trial)", "X"),
    ProfileRow("(0040,A030)", "Verification DateTime", "D", retain_full_dates="K", retain_modified_dates="C"),
    ProfileRow("(0040,A088)", "Verifying Observer Identification Code Sequence", "Z"),
    ProfileRow("(0040,A075)", "Verifying Observer Name", "D"),
    ProfileRow("(0040,A073)", "Verifying Observer Sequence", "D"),
    ProfileRow("(0040,A027)", "Verifying Organization", "D"),
    ProfileRow("(0038,4000)", "Visit Comments", "X", clean_descriptors="C"),
    ProfileRow("(003A,0329)", "Waveform Filter Description", "X", clean_descriptors="C"),
    ProfileRow("(0018,9371)", "X-Ray Detector ID", "D", retain_device_identity="K"),
    ProfileRow("(0018,9373)", "X-Ray Detector Label", "X", retain_device_identity="K"),
    ProfileRow("(0018,9367)", "X-Ray Source ID", "D", retain_device_identity="K"),
)

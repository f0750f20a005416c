"""Street-type words: USPS Publication 28 appendix C1 (primary names and standard
abbreviations) plus UK, Australian and Indian street types. Used to anchor the address search."""

from __future__ import annotations

USPS_SUFFIXES = ["Alley", "Allee", "Aly", "Anex", "Annex", "Anx", "Arcade", "Arc", "Avenue", "Ave", "Av", "Bayou", "Byu", "Beach", "Bch", "Bend", "Bnd", "Bluff", "Blf", "Bluffs", "Blfs", "Bottom", "Btm", "Boulevard", "Blvd", "Branch", "Br", "Bridge", "Brg", "Brook", "Brk", "Brooks", "Brks", "Burg", "Bg", "Burgs", "Bgs", "Bypass", "Byp", "Camp", "Cp", "Canyon", "Cyn", "Cape", "Cpe", "Causeway", "Cswy", "Center", "Ctr", "Centers", "Ctrs", "Circle", "Cir", "Circles", "Cirs", "Cliff", "Clf", "Cliffs", "Clfs", "Club", "Clb", "Common", "Cmn", "Commons", "Cmns", "Corner", "Cor", "Corners", "Cors", "Course", "Crse", "Court", "Ct", "Courts", "Cts", "Cove", "Cv", "Coves", "Cvs", "Creek", "Crk", "Crescent", "Cres", "Crest", "Crst", "Crossing", "Xing", "Crossroad", "Xrd", "Crossroads", "Xrds", "Curve", "Curv", "Dale", "Dl", "Dam", "Dm", "Divide", "Dv", "Drive", "Dr", "Drives", "Drs", "Estate", "Est", "Estates", "Ests", "Expressway", "Expy", "Extension", "Ext", "Extensions", "Exts", "Fall", "Falls", "Fls", "Ferry", "Fry", "Field", "Fld", "Fields", "Flds", "Flat", "Flt", "Flats", "Flts", "Ford", "Frd", "Fords", "Frds", "Forest", "Frst", "Forge", "Frg", "Forges", "Frgs", "Fork", "Frk", "Forks", "Frks", "Fort", "Ft", "Freeway", "Fwy", "Garden", "Gdn", "Gardens", "Gdns", "Gateway", "Gtwy", "Glen", "Gln", "Glens", "Glns", "Green", "Grn", "Greens", "Grns", "Grove", "Grv", "Groves", "Grvs", "Harbor", "Hbr", "Harbors", "Hbrs", "Haven", "Hvn", "Heights", "Hts", "Highway", "Hwy", "Hill", "Hl", "Hills", "Hls", "Hollow", "Holw", "Inlet", "Inlt", "Island", "Is", "Islands", "Iss", "Isle", "Junction", "Jct", "Junctions", "Jcts", "Key", "Ky", "Keys", "Kys", "Knoll", "Knl", "Knolls", "Knls", "Lake", "Lk", "Lakes", "Lks", "Land", "Landing", "Lndg", "Lane", "Ln", "Light", "Lgt", "Lights", "Lgts", "Loaf", "Lf", "Lock", "Lck", "Locks", "Lcks", "Lodge", "Ldg", "Loop", "Mall", "Manor", "Mnr", "Manors", "Mnrs", "Meadow", "Mdw", "Meadows", "Mdws", "Mews", "Mill", "Ml", "Mills", "Mls", "Mission", "Msn", "Motorway", "Mtwy", "Mount", "Mt", "Mountain", "Mtn", "Mountains", "Mtns", "Neck", "Nck", "Orchard", "Orch", "Oval", "Overpass", "Opas", "Park", "Prk", "Parks", "Parkway", "Pkwy", "Parkways", "Pass", "Passage", "Psge", "Path", "Pike", "Pine", "Pne", "Pines", "Pnes", "Place", "Pl", "Plain", "Pln", "Plains", "Plns", "Plaza", "Plz", "Point", "Pt", "Points", "Pts", "Port", "Prt", "Ports", "Prts", "Prairie", "Pr", "Radial", "Radl", "Ramp", "Ranch", "Rnch", "Rapid", "Rpd", "Rapids", "Rpds", "Rest", "Rst", "Ridge", "Rdg", "Ridges", "Rdgs", "River", "Riv", "Road", "Rd", "Roads", "Rds", "Route", "Rte", "Row", "Rue", "Run", "Shoal", "Shl", "Shoals", "Shls", "Shore", "Shr", "Shores", "Shrs", "Skyway", "Skwy", "Spring", "Spg", "Springs", "Spgs", "Spur", "Spurs", "Square", "Sq", "Squares", "Sqs", "Station", "Sta", "Stravenue", "Stra", "Stream", "Strm", "Street", "St", "Streets", "Sts", "Summit", "Smt", "Terrace", "Ter", "Throughway", "Trwy", "Trace", "Trce", "Track", "Trak", "Trafficway", "Trfy", "Trail", "Trl", "Trailer", "Trlr", "Tunnel", "Tunl", "Turnpike", "Tpke", "Underpass", "Upas", "Union", "Un", "Unions", "Uns", "Valley", "Vly", "Valleys", "Vlys", "Viaduct", "Via", "Vdct", "View", "Vw", "Views", "Vws", "Village", "Vlg", "Villages", "Vlgs", "Ville", "Vl", "Vista", "Vis", "Walk", "Walks", "Wall", "Way", "Ways", "Well", "Wl", "Wells", "Wls"]
# UK, Australia, New Zealand, India.
OTHER_EN = ["Close", "Parade", "Pde", "Tce", "Cres", "Esplanade", "Esp", "Grange", "Rise", "Wharf", "Quay", "Gate", "Gardens", "Chase", "Croft", "Drove", "Wynd", "Hwy", "Cct", "Circuit", "Crescent", "Mall", "Promenade", "Lane", "Marg", "Nagar", "Chowk", "Colony", "Layout", "Enclave", "Vihar", "Bagh", "Salai", "Peth"]
# Australian street types (AS/NZS 4819 and Australia Post's list) not in the lists above.
AU_TYPES = ["Anchorage", "Basin", "Brae", "Centreway", "Colonnade", "Cutting", "Entrance", "Front", "Quadrant", "Quadrangle", "Ramble", "Ridgeway", "Roadside", "Rotary", "Crossroad", "Boulevarde", "Concourse", "Dell", "Elbow", "Fairway", "Glade", "Heath", "Highroad", "Lookout", "Meander", "Nook", "Outlook", "Parklands", "Pathway", "Pocket", "Reserve", "Retreat", "Serviceway", "Strand", "Walkway", "Waters", "Vale", "Woodland", "Amble", "Arterial", "Banan", "Bowl", "Brace", "Broadway", "Busway", "Cove", "Cross", "Crossing", "Driveway", "Freeway", "Frontage", "Gap", "Glen", "Grove", "Grand", "Hill", "Junction", "Key", "Laneway", "Mead", "Mews", "Motorway", "Outlet", "Pass", "Port", "Precinct", "Quays", "Ridge", "Rise", "Ring", "Ronde", "Row", "Rowe", "Rue", "Slope", "Spur", "Subway", "Tarn", "Terrace", "Thoroughfare", "Tollway", "Tor", "Towers", "Trail", "Turn", "Underpass", "Verge", "Vista", "Wharf", "Wynd", "Yard", "Ganj", "Zila", "Bazar", "Bazaar",
            # Australia Post's types that Faker's en_AU also prints; the ones that are everyday
            # English words ("End", "Top", "Line", "Range", "Lower") stay out.
            "Alleyway", "Approach", "Artery", "Byway", "Centre", "Circlet", "Circus", "Copse",
            "Courtyard", "Crossway", "Cruiseway", "Deviation", "Dip", "Distributor", "Firetrail",
            "Footway", "Foreshore", "Formation", "Gates", "Gully", "Interchange", "Intersection",
            "Lees", "Link", "Mew", "Brow", "Part", "Plateau", "Quad", "Ride", "Riverway", "Riviera",
            "Roadway", "Rosebowl", "Round", "Siding", "Stairs", "Steps", "Strip", "Triangle",
            "Trunkway", "Villas", "Wade"]
# Abbreviations that are common short words or initials elsewhere; their full forms stay.
_AMBIGUOUS = frozenset(["Is", "Iss", "Un", "Uns", "Pr", "Dl", "Vl", "Wl", "Lf", "Ky", "Ml", "Hl", "Sta", "Av", "Cv", "Bg", "Cp", "Dm", "Dv", "Br", "Vis"])
STREET_WORDS = tuple(
    w for w in dict.fromkeys(USPS_SUFFIXES + OTHER_EN + AU_TYPES) if w not in _AMBIGUOUS
)


def trie_pattern(words: list[str] | tuple[str, ...] | frozenset[str] | set[str]) -> str:
    """A regex alternation of `words` factored as a trie, so `re` tries one branch per letter."""
    return "(?:" + "|".join(trie_branches(words, "")) + ")"


def trie_branches(
    words: list[str] | tuple[str, ...] | frozenset[str] | set[str] | dict[str, str], tail: str
) -> list[str]:
    """The trie's top-level branches, each word followed by `tail` (or, given a dict, by its own
    tail). Joined with other alternatives that start on a literal, they keep `re`'s
    first-character skip (a group would lose it)."""
    import re

    tails = words if isinstance(words, dict) else dict.fromkeys(words, tail)
    root: dict = {}
    for word, word_tail in tails.items():
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = word_tail

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            branches.append(node[""])  # the word ends here: its tail, tried after longer words
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return [re.escape(ch) + emit(child) for ch, child in sorted(root.items()) if ch]

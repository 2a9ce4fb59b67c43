"""Builds scoring/real_photos from the unpacked packages: the record of where each photo came from and
how it was labelled (by hand, after looking at it).

Run in a scratch folder holding `apt-get download` + `dpkg-deb -x PKG.deb out/PKG` of lomiri-wallpapers-16.04,
lomiri-wallpapers-20.04, lxqt-themes, palapeli-data, gcompris-qt-data (its .rcc bundles unpacked by unrcc.py
into rcc/x/); REPO points at the checkout. Never mate-backgrounds or plasma-workspace-wallpapers (reserved
for an independent check).
"""
import csv
import os
import re

import skimage
from PIL import Image

SK = skimage.data_dir + "/"
REPO = os.environ.get("REPO", str(__import__("pathlib").Path(__file__).resolve().parents[2]))
L16 = "out/lomiri-wallpapers-16.04/usr/share/backgrounds/"
L20 = "out/lomiri-wallpapers-20.04/usr/share/backgrounds/"
LX = "out/lxqt-themes/usr/share/lxqt/wallpapers/"
PA = "out/palapeli-data/usr/share/palapeli/collection/"
G = "rcc/x/gcompris/src/activities/"
OUT = REPO + "/scoring/real_photos/"

# (file stem, scene, source path, weather, mood, situation) -- labelled by hand after looking at each photo
E = [
 ("cafe_espresso_cup_01","cafe",SK+"coffee.png","","따뜻한|편안한|잔잔한","카페|휴식"),
 ("cafe_tea_cup_01","cafe",G+"categorization/resource/images/others/cup.webp","","따뜻한|편안한|잔잔한|부드러운","카페|휴식|집"),
 ("closeup_astronaut_portrait_01","uncertain",SK+"astronaut.png","","밝은|행복",""),
 ("closeup_cat_face_01","uncertain",SK+"chelsea.png","","",""),
 ("night_rocket_launch_pad_01","night_city",SK+"rocket.jpg","맑은날","웅장한|몽환적인","밤|새벽|저녁"),
 ("texture_brick_wall_01","uncertain",SK+"brick.png","","",""),
 ("texture_gravel_01","uncertain",SK+"gravel.png","","",""),
 ("beach_tidal_flat_bridge_01","beach_sea",L16+"Bridge_by_Sander_Klootwijk.jpg","맑은날|여름","시원한|밝은","해변|휴가/여행|드라이브"),
 ("closeup_dragonfly_leaves_01","uncertain",L16+"Dragonfly_by_Bolly.jpg","맑은날|여름","밝은",""),
 ("closeup_fig_bowl_01","uncertain",L16+"Picture_0B_by_freespace.jpg","","",""),
 ("closeup_paint_brushes_01","uncertain",L16+"Picture_1A_by_freespace.jpg","","",""),
 ("indoor_living_room_wine_01","indoor",L16+"Wine_by_Jakkub_Mede.jpg","","편안한|따뜻한|잔잔한|로맨틱한","집|휴식|저녁|밤"),
 ("autumn_mountain_meadow_01","autumn",L16+"aitzgorri_by_Aitzol_Berasategi.jpg","가을|맑은날","편안한|잔잔한|따뜻한","산책|휴가/여행|오후"),
 ("texture_analog_pattern_01","uncertain",L16+"analogpattern_by_Peter_Nerlich.jpg","","",""),
 ("closeup_ceiling_lamp_bird_01","uncertain",L16+"free_by_Peter_Nerlich.jpg","","",""),
 ("closeup_dogs_window_01","uncertain",L16+"friends_by_Aitzol_Berasategi.jpg","","",""),
 ("closeup_wall_clock_01","uncertain",L16+"greentock_by_Peter_Nerlich.jpg","","",""),
 ("forest_stream_rocks_01","forest",L16+"life_by_Aitzol_Berasategi.jpg","여름|봄","잔잔한|편안한|시원한","산책|휴식|휴가/여행"),
 ("mountains_trail_snow_patches_01","mountains",L16+"picosdeeuropa_by_Aitzol_Berasategi.jpg","맑은날|여름|봄","시원한|웅장한|밝은","산책|휴가/여행"),
 ("spring_dandelions_low_sun_01","spring",L16+"seeding_by_Clements_Engelhardt.jpg","봄|여름|맑은날","따뜻한|잔잔한|몽환적인|부드러운","저녁|산책|휴식"),
 ("sunset_mountain_top_01","sunset_dusk",L16+"sunset_by_Aitzol_Berasategi.jpg","맑은날","따뜻한|잔잔한|웅장한","저녁|아침|새벽|휴가/여행"),
 ("closeup_bird_tree_trunk_01","uncertain",L20+"Kleiber_by_Lukas_Baubkus.jpg","","",""),
 ("sunset_storm_clouds_01","sunset_dusk",LX+"after-the-rain.jpg","흐린날|비오는날","어두운|웅장한|몽환적인","저녁"),
 ("spring_apple_blossom_01","spring",LX+"appleflower.png","봄","부드러운|잔잔한|밝은",""),
 ("closeup_butterfly_thistle_01","uncertain",LX+"butterfly.png","여름|봄","잔잔한",""),
 ("sky_small_clouds_01","uncertain",LX+"cloud.png","맑은날|흐린날","몽환적인|잔잔한|시원한",""),
 ("closeup_dew_drop_grass_01","uncertain",LX+"drop.png","비오는날|봄|여름","잔잔한|부드러운",""),
 ("spring_wildflower_meadow_01","spring",LX+"flowers.png","봄|여름","밝은|잔잔한|부드러운","산책"),
 ("fog_hills_fields_01","fog_mist",LX+"fog.jpg","안개낀날|흐린날|가을","몽환적인|잔잔한|어두운","아침|새벽"),
 ("hills_blue_sky_fields_01","mountains",LX+"this-is-not-windows.jpg","맑은날|봄|가을","시원한|편안한|잔잔한|밝은","드라이브|산책|휴가/여행"),
 ("closeup_butterfly_meadow_01","uncertain",LX+"Butterfly-Kenneth-Wimer.jpg","여름|봄|맑은날","부드러운|몽환적인|잔잔한|따뜻한",""),
 ("night_city_bridge_lights_01","night_city",PA+"cincinnati-bridge.jpg","","로맨틱한|몽환적인|웅장한|따뜻한","밤|저녁|드라이브|거리|산책|휴가/여행"),
 ("closeup_bee_aster_01","uncertain",PA+"european-honey-bee.jpg","가을|여름","밝은",""),
 ("texture_citrus_slices_01","uncertain",PA+"citrus-fruits.jpg","","밝은",""),
 ("harbour_blue_sky_opera_house_01","beach_sea",G+"categorization/resource/images/monuments/operaHouse.webp","맑은날|여름","시원한|밝은","휴가/여행|산책"),
 ("night_palace_lights_01","night_city",G+"categorization/resource/images/monuments/zimniPalace.webp","","웅장한|로맨틱한|따뜻한","밤|저녁|휴가/여행|거리|산책"),
 ("road_city_street_church_01","road",G+"categorization/resource/images/monuments/monument3.webp","맑은날|흐린날","잔잔한|편안한","거리|드라이브|외출|출/퇴근길|오후|휴가/여행"),
 ("cloudy_sky_louvre_01","landmark",G+"categorization/resource/images/monuments/leMusee.webp","흐린날","웅장한|잔잔한","휴가/여행|산책|거리|외출|오후"),
 ("blue_sky_ruins_meadow_01","landmark",G+"categorization/resource/images/monuments/monument2.webp","맑은날|봄|여름","밝은|편안한","휴가/여행|산책"),
 ("snow_igloo_01","snow",G+"categorization/resource/images/others/igloo.webp","눈오는날|겨울|추운날|맑은날","시원한|밝은","휴가/여행"),
 ("indoor_bed_pillow_01","indoor",G+"categorization/resource/images/others/pillow.webp","","편안한|잔잔한|부드러운","잠잘 때|집|휴식"),
 ("indoor_kitchen_pan_01","indoor",G+"categorization/resource/images/others/pan.webp","","","집"),
 ("closeup_light_bulb_01","uncertain",G+"categorization/resource/images/others/bulb.webp","","",""),
 ("blue_sky_windmill_01","landmark",G+"categorization/resource/images/renewable/windmill1.webp","맑은날|여름","밝은|시원한","휴가/여행"),
 ("windmills_canal_clouds_01","landmark",G+"categorization/resource/images/renewable/windmill13.webp","맑은날|흐린날|여름|봄","편안한|잔잔한","산책|휴가/여행|드라이브"),
 ("spring_windmill_path_01","spring",G+"categorization/resource/images/renewable/windmill12.webp","맑은날|봄","편안한|잔잔한|밝은","산책|휴가/여행"),
 ("mountains_river_dam_01","mountains",G+"categorization/resource/images/renewable/dam3.webp","맑은날|여름","시원한|편안한","휴가/여행|드라이브"),
 ("mist_geyser_steam_01","fog_mist",G+"categorization/resource/images/renewable/geothermal.webp","안개낀날|추운날|맑은날","몽환적인|웅장한","휴가/여행|새벽|아침"),
 ("mountains_goat_peaks_01","mountains",G+"erase/resource/goat.webp","맑은날|흐린날","웅장한|시원한","휴가/여행|산책"),
 ("snow_mountains_horse_01","snow",G+"erase/resource/horse.webp","맑은날|추운날|겨울|가을","웅장한|잔잔한|시원한","휴가/여행"),
 ("desert_camels_01","landmark",G+"erase/resource/camels.webp","흐린날|맑은날|더운날","잔잔한","휴가/여행"),
 ("sea_underwater_dolphin_01","beach_sea",G+"erase/resource/dolphin.webp","여름|맑은날|더운날","시원한|몽환적인|잔잔한","해변|휴가/여행"),
 ("closeup_swans_dark_water_01","uncertain",G+"erase/resource/swans.webp","","잔잔한|어두운|부드러운",""),
 ("autumn_pika_red_leaves_01","autumn",G+"erase/resource/pika.webp","가을","따뜻한",""),
 ("beach_crab_sand_01","beach_sea",G+"erase/resource/crab.webp","맑은날|여름|더운날","","해변|휴가/여행"),
 ("autumn_squirrel_yellow_leaves_01","autumn",G+"erase/resource/squirrel.webp","가을","따뜻한|밝은","산책"),
 ("haze_desert_pyramid_01","fog_mist",G+"explore_monuments/resource/egypt/bentPyramid.webp","흐린날|안개낀날|더운날","잔잔한|웅장한","휴가/여행"),
 ("haze_desert_pyramid_02","fog_mist",G+"explore_monuments/resource/egypt/meidumPyramid.webp","흐린날|안개낀날|더운날","잔잔한|웅장한","휴가/여행"),
 ("cloudy_coast_mont_st_michel_01","beach_sea",G+"explore_monuments/resource/france/montStMichel.webp","흐린날|맑은날","잔잔한|웅장한|편안한","휴가/여행|해변|드라이브"),
 ("dusk_city_lights_gateway_01","sunset_dusk",G+"explore_monuments/resource/india/gatewayofIndia.webp","","따뜻한|로맨틱한|웅장한","저녁|밤|휴가/여행|산책|거리"),
 ("dusk_city_lights_gate_01","sunset_dusk",G+"explore_monuments/resource/germany/brandenburgGate.webp","맑은날","웅장한|따뜻한|로맨틱한","저녁|밤|휴가/여행|거리|산책"),
 ("night_memorial_lights_01","night_city",G+"explore_monuments/resource/usa/lincolnMemorial.webp","","웅장한|잔잔한","밤|저녁|휴가/여행"),
 ("blue_sky_cathedral_park_01","landmark",G+"explore_monuments/resource/germany/berlinCathedral.webp","맑은날|여름|봄","밝은|웅장한","휴가/여행|산책|오후"),
 ("mountains_castle_forest_01","mountains",G+"explore_monuments/resource/germany/neuschwansteinCastle.webp","맑은날|여름","웅장한|밝은|로맨틱한","휴가/여행|드라이브"),
 ("canyon_river_01","mountains",G+"explore_monuments/resource/usa/canyondeChelly.webp","맑은날|더운날|여름|가을","웅장한|잔잔한","휴가/여행|드라이브"),
 ("mist_mountains_ruins_01","fog_mist",G+"explore_monuments/resource/wonders/machuPicchu.webp","흐린날|안개낀날","웅장한|몽환적인","휴가/여행"),
 ("haze_city_mountain_statue_01","fog_mist",G+"explore_monuments/resource/wonders/christTheRedeemer.webp","안개낀날|흐린날|맑은날","웅장한|몽환적인","휴가/여행"),
 ("mountains_forest_wall_01","mountains",G+"explore_monuments/resource/wonders/greatWallofChina.webp","맑은날|여름","웅장한|시원한","휴가/여행|산책"),
 ("forest_river_aqueduct_01","forest",G+"explore_monuments/resource/france/pontduGard.webp","맑은날|여름","웅장한|편안한|잔잔한","휴가/여행|산책"),
 ("forest_valley_village_01","forest",G+"explore_monuments/resource/france/rocamadour.webp","맑은날|흐린날|여름","잔잔한|편안한","휴가/여행|드라이브"),
 ("forest_cliff_caves_01","forest",G+"explore_monuments/resource/india/ajantaCave.webp","맑은날|흐린날|여름","웅장한|시원한","휴가/여행"),
 ("road_avenue_tower_01","road",G+"explore_monuments/resource/france/eiffelTower.webp","맑은날|여름|가을","밝은|로맨틱한","휴가/여행|산책|거리|오후"),
 ("blue_sky_mausoleum_01","landmark",G+"explore_monuments/resource/wonders/tajMahal.webp","맑은날|흐린날|여름|더운날","웅장한|잔잔한|로맨틱한","휴가/여행"),
 ("road_street_parked_cars_01","road",G+"explore_monuments/resource/germany/aulaPalatina.webp","맑은날|여름|봄","잔잔한|밝은","거리|드라이브|외출|출/퇴근길|오후"),
 ("bare_tree_brick_house_01","autumn",G+"explore_monuments/resource/usa/georgeWashingtonBirthplace.webp","흐린날|겨울|가을|봄","잔잔한|편안한","집|산책"),
 ("lake_palace_bare_trees_01","landmark",G+"explore_monuments/resource/germany/schwerinPalace.webp","맑은날|겨울|봄|가을","웅장한|잔잔한","휴가/여행|산책"),
 ("river_chateau_01","landmark",G+"explore_monuments/resource/france/chateaudeChenonceau.webp","맑은날|흐린날|여름|봄","잔잔한|로맨틱한|웅장한","휴가/여행|산책"),
 ("mountains_blue_sky_carving_01","mountains",G+"explore_monuments/resource/usa/mountRushmore.webp","맑은날","웅장한","휴가/여행"),
]

import json
import sys

sys.path.insert(0, REPO)
from schemas import taxonomy

cats = taxonomy.categories()
GROUPS = {"weather": set(cats["weather"]) | set(cats["season"]),
          "mood": set(cats["emotion"]) | set(cats["style"]),
          "situation": set(cats["situation"]) | set(cats["time"])}

SKLIC = {"coffee.png": ("Rachel Michetti (courtesy of Pikolo Espresso Bar)", "CC0-1.0"),
         "astronaut.png": ("NASA (NASA Great Images database)", "public domain"),
         "chelsea.png": ("Stefan van der Walt", "CC0-1.0"),
         "rocket.jpg": ("SpaceX (SpaceX Photos on Flickr)", "public domain"),
         "brick.png": ("CC0Textures (Bricks25), transformed by scikit-image", "CC0-1.0"),
         "gravel.png": ("CC0Textures (Gravel04), cropped by scikit-image", "CC0-1.0")}

def lomiri():
    t = open("out/lomiri-wallpapers-16.04/usr/share/doc/lomiri-wallpapers-16.04/copyright").read()
    d = {}
    for m in re.finditer(r"Files: \S+/(\S+)\nCopyright: (.*?)\nLicense: (\S+)", t):
        d[m.group(1)] = (m.group(2).strip(), m.group(3))
    return d
LOM = lomiri()

def palapeli(name):
    t = open(PA + name.replace(".jpg", ".desktop")).read()
    a = re.search(r"^X-KDE-PluginInfo-Author=(.*)$", t, re.M).group(1)
    l = re.search(r"^X-KDE-PluginInfo-License=(.*)$", t, re.M).group(1)
    return a, "public domain" if l.lower() == "public domain" else l

def gcompris(path):
    d, name = os.path.split(path)
    readme = d + "/README"
    while not os.path.exists(readme):
        d = os.path.dirname(d); readme = d + "/README"
    rel = os.path.relpath(path, d)
    for block in open(readme).read().split("\n\n"):
        kv = {}; key = None
        for line in block.splitlines():
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m: key = m.group(1); kv[key] = m.group(2).strip()
            elif key: kv[key] = (kv[key] + " " + line.strip()).strip()
        # upstream README misspells aulaPalatina as audaPalatina
        if rel in kv.get("Files", "").replace("audaPalatina", "aulaPalatina").split():
            lic = kv["License"].replace("CC-BY-SA 4.0", "CC-BY-SA-4.0"); lic = "public domain" if lic.lower() == "public domain" else lic
            return kv["Copyright"], lic, kv.get("Source", "")
    raise SystemExit(f"no licence for {path}")

def meta(src):
    if src.startswith(SK):
        n = os.path.basename(src); a, l = SKLIC[n]
        return "scikit-image 0.26.0 (PyPI) skimage/data/" + n, a, l, ""
    if src.startswith(L16) or src.startswith(L20):
        n = os.path.basename(src); a, l = LOM[n]
        pkg = "lomiri-wallpapers-16.04" if src.startswith(L16) else "lomiri-wallpapers-20.04"
        return f"{pkg} 20.04.0-2 /usr/share/backgrounds/{n}", a, l, ""
    if src.startswith(LX):
        n = os.path.basename(src)
        return f"lxqt-themes 1.2.0-1 /usr/share/lxqt/wallpapers/{n}", "2010-2012 Razor team, 2012-2022 LXQt team" + (" (photo: Kenneth Wimer)" if "Wimer" in n else ""), "LGPL-2.1-or-later", ""
    if src.startswith(PA):
        n = os.path.basename(src); a, l = palapeli(n)
        return f"palapeli-data 4:22.12.3-1 /usr/share/palapeli/collection/{n}", a, l, ""
    if src.startswith(G):
        rel = src[len("rcc/x/gcompris/"):]; act = rel.split("/")[2]
        a, l, s = gcompris(src)
        return f"gcompris-qt-data 3.1-2 /usr/share/gcompris-qt/rcc/{act}.rcc:{rel}", a, l, s
    raise SystemExit(src)

def split_of(rows):
    # deterministic, stratified: within each scene (sorted by file), positions 1 and 3 of every 5 go to tune (40 %)
    out = {}
    by = {}
    for r in rows: by.setdefault(r[1], []).append(r[0])
    for scene, names in by.items():
        for i, n in enumerate(sorted(names)):
            out[n] = "tune" if i % 5 in (1, 3) else "test"
    return out

seen = set()
for stem, scene, src, *labels in E:
    assert stem not in seen, stem; seen.add(stem)
    assert os.path.exists(src), src
    for g, v in zip(("weather", "mood", "situation"), labels):
        for lab in filter(None, v.split("|")):
            assert lab in GROUPS[g], (stem, g, lab)
split = split_of(E)
os.makedirs(OUT + "images", exist_ok=True)
rows, attrib = [], []
for stem, scene, src, w, m, s in E:
    im = Image.open(src); im = im.convert("RGB"); im.thumbnail((640, 640), Image.LANCZOS)
    im.save(f"{OUT}images/{stem}.jpg", "JPEG", quality=85, optimize=True)
    source, author, lic, url = meta(src)
    rows.append([f"images/{stem}.jpg", split[stem], w, m, s, source, lic])
    attrib.append((stem, scene, author, lic, url, source))
with open(OUT + "labels.csv", "w", newline="", encoding="utf-8") as f:
    wr = csv.writer(f, lineterminator="\n"); wr.writerow(["file", "split", "weather", "mood", "situation", "source", "licence"])
    wr.writerows(sorted(rows))
json.dump(attrib, open("attrib.json", "w"), ensure_ascii=False, indent=0)
print(len(rows))
